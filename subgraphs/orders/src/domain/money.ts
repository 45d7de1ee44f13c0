/** Integer minor units plus an ISO 4217 code; never floating point. */
export interface Money {
  amountCents: number;
  currency: string;
}

export const isCurrencyCode = (value: string) => /^[A-Z]{3}$/.test(value);

export const isAmount = (value: number) => Number.isSafeInteger(value) && value >= 0;

/**
 * The currency orders are placed in. The shop sells in one currency today (catalog prices default to
 * USD); the catalog's priced lines and billing's charge are in it.
 */
export const ORDER_CURRENCY = 'USD';
