import { z } from 'zod';
import { defineEvent } from './define.ts';
import { id, lineRef, money, quantity } from './common.ts';

const topic = 'catalog.events';

const productState = {
  productId: id,
  sku: z.string().min(1),
  slug: z.string().min(1),
  name: z.string().min(1),
  price: money,
  categoryId: id.nullable().optional(),
};

export const ProductCreated = defineEvent('ProductCreated', {
  topic,
  schema: z.looseObject(productState),
  aggregateId: (payload) => payload.productId,
});

/** The product as it is after the change; `changedFields` names what changed (for cache purges). */
export const ProductUpdated = defineEvent('ProductUpdated', {
  topic,
  schema: z.looseObject({ ...productState, changedFields: z.array(z.string()).default([]) }),
  aggregateId: (payload) => payload.productId,
});

export const ProductArchived = defineEvent('ProductArchived', {
  topic,
  schema: z.looseObject({ productId: id, slug: z.string().min(1) }),
  aggregateId: (payload) => payload.productId,
});

/** Units a customer can still buy changed (admin adjustment, reservation, release). */
export const StockChanged = defineEvent('StockChanged', {
  topic,
  schema: z.looseObject({
    productId: id,
    available: z.number().int().nonnegative(),
    reason: z.string().min(1),
    orderId: id.optional(),
  }),
  aggregateId: (payload) => payload.productId,
});

const pricedLine = z
  .looseObject({ productId: id, quantity, unitPrice: money, lineTotal: money })
  .refine((line) => line.lineTotal.amountCents === line.unitPrice.amountCents * line.quantity, {
    message: 'lineTotal must be unitPrice × quantity',
    path: ['lineTotal'],
  })
  .refine((line) => line.lineTotal.currency === line.unitPrice.currency, {
    message: 'lineTotal and unitPrice must share a currency',
    path: ['lineTotal', 'currency'],
  });

/** Saga step 2 (success): every line reserved at today's price. Keyed by the order, like all saga events. */
export const StockReserved = defineEvent('StockReserved', {
  topic,
  schema: z
    .looseObject({ orderId: id, lines: z.array(pricedLine).min(1), total: money })
    .refine((event) => event.lines.every((line) => line.lineTotal.currency === event.total.currency), {
      message: 'every line must be in the total currency',
      path: ['total', 'currency'],
    })
    .refine((event) => event.lines.reduce((sum, line) => sum + line.lineTotal.amountCents, 0) === event.total.amountCents, {
      message: 'total must be the sum of the line totals',
      path: ['total', 'amountCents'],
    }),
  aggregateId: (payload) => payload.orderId,
});

/** Saga step 2 (failure): nothing was reserved. */
export const StockRejected = defineEvent('StockRejected', {
  topic,
  schema: z.looseObject({
    orderId: id,
    reason: z.string().min(1),
    lines: z.array(z.looseObject({ productId: id, requested: z.number().int(), available: z.number().int() })).optional(),
  }),
  aggregateId: (payload) => payload.orderId,
});

/** Compensation: an order's reserved units are back on the shelf. */
export const StockReleased = defineEvent('StockReleased', {
  topic,
  schema: z.looseObject({ orderId: id, lines: z.array(lineRef), reason: z.string().optional() }),
  aggregateId: (payload) => payload.orderId,
});
