import { z } from 'zod';

/**
 * Shared field types of the event contracts. Objects are loose: fields a producer adds travel
 * through untouched (consumers ignore what they do not know), so adding an optional field never
 * needs a new version; renaming or removing one does.
 */
export const id = z.string().min(1).max(200);

export const quantity = z.number().int().positive();

/** Integer minor units plus an ISO 4217 code, as in the graph's `Money`. */
export const money = z.looseObject({
  amountCents: z.number().int().nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code like USD'),
});

export type Money = z.output<typeof money>;

export const currency = money.shape.currency;

/** A product and how many units: what an order asks for and what is released. */
export const lineRef = z.looseObject({ productId: id, quantity });
