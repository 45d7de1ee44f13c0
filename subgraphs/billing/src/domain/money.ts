/** Money in integer minor units (cents) with an ISO 4217 code; never floating point. */
export interface Money {
  amountCents: number;
  currency: string;
}

/** The largest amount a PostgreSQL INTEGER column (and a GraphQL Int) holds. */
export const MAX_AMOUNT_CENTS = 2_147_483_647;

export const isPositiveAmountCents = (value: number): boolean =>
  Number.isSafeInteger(value) && value > 0 && value <= MAX_AMOUNT_CENTS;

export const isCurrencyCode = (value: string): boolean => /^[A-Z]{3}$/.test(value);

export const money = (amountCents: number, currency: string): Money => ({ amountCents, currency });
