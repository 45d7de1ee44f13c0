/**
 * Guards against raw card data reaching billing. Clients must send the token their payment form got
 * from the provider; a primary account number (PAN) must never be stored, echoed or logged here.
 * The card-number rules themselves live in `@commerce/platform` (card-numbers.ts), shared by every service.
 */
import { containsLongDigitRun } from '@commerce/platform/card-numbers';

/** Provider tokens are short opaque identifiers (e.g. `tok_visa`, `pm_1Mq...`). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{3,255}$/;

export type PaymentTokenCheck = { ok: true; token: string } | { ok: false; problem: 'card_number' | 'malformed' };

/** Longer input is refused unread: no token is that long, and scanning it costs the server. */
const MAX_TOKEN_INPUT_LENGTH = 1_000;

/**
 * Classifies what a client sent as a payment token, without ever returning the rejected input. No token has
 * 13 digits in a row, so here any such run counts as a card number, checksum or not (stricter than free text).
 */
export function checkPaymentToken(input: string): PaymentTokenCheck {
  if (input.length > MAX_TOKEN_INPUT_LENGTH) return { ok: false, problem: 'malformed' };
  if (containsLongDigitRun(input)) return { ok: false, problem: 'card_number' };
  const token = input.trim();
  if (!TOKEN_SHAPE.test(token)) return { ok: false, problem: 'malformed' };
  return { ok: true, token };
}
