/**
 * Guards against raw card data reaching billing. Clients must send the token their payment form got
 * from the provider; a primary account number (PAN) must never be stored, echoed or logged here.
 */

/** Digit runs, allowing the separators people type inside card numbers (spaces, dashes, dots, slashes, underscores). */
const DIGIT_RUN = /\d(?:[\s._/-]*\d)*/g;

/** A card number has 13–19 digits; anything with that many digits in one run is treated as one, Luhn-valid or not. */
const MIN_CARD_DIGITS = 13;

export function containsCardNumber(input: string): boolean {
  for (const run of input.match(DIGIT_RUN) ?? []) {
    if (run.replace(/\D/g, '').length >= MIN_CARD_DIGITS) return true;
  }
  return false;
}

/** Replaces every card-number-shaped run with a marker, for text that may be logged or shown. */
export function redactCardNumbers(text: string): string {
  return text.replace(DIGIT_RUN, (run) => (run.replace(/\D/g, '').length >= MIN_CARD_DIGITS ? '[redacted card number]' : run));
}

/** Provider tokens are short opaque identifiers (e.g. `tok_visa`, `pm_1Mq...`). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{3,255}$/;

export type PaymentTokenCheck = { ok: true; token: string } | { ok: false; problem: 'card_number' | 'malformed' };

/** Longer input is refused unread: no token is that long, and scanning it costs the server. */
const MAX_TOKEN_INPUT_LENGTH = 1_000;

/** Classifies what a client sent as a payment token, without ever returning the rejected input. */
export function checkPaymentToken(input: string): PaymentTokenCheck {
  if (input.length > MAX_TOKEN_INPUT_LENGTH) return { ok: false, problem: 'malformed' };
  if (containsCardNumber(input)) return { ok: false, problem: 'card_number' };
  const token = input.trim();
  if (!TOKEN_SHAPE.test(token)) return { ok: false, problem: 'malformed' };
  return { ok: true, token };
}

/** The Luhn checksum card numbers carry; used by the fake provider's test data and the tests. */
export function passesLuhn(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = Number(digits[digits.length - 1 - index]);
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}
