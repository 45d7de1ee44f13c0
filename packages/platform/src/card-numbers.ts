/**
 * Card numbers (PANs) must never be stored, published in events or logged. Clients send tokens for cards;
 * free text (names, addresses, reasons, product copy) is checked here so a card number typed into it is
 * refused before it reaches a database, an event or a log. The one rule every service uses.
 */
import { badInput } from './errors.ts';

/**
 * Digit groups joined by the separators people type inside card numbers (spaces, dashes, dots, slashes,
 * underscores; at most three in a row), so `4111 1111 1111 1111` and `4111-1111-1111-1111` are one run.
 */
const DIGIT_RUN = /\d+(?:[\s._/-]{1,3}\d+)*/g;
const GROUP = /\d+/g;

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;

/** Longer text is scanned only this far: no stored free-text field is longer, and scanning costs the server. */
const MAX_SCANNED_LENGTH = 100_000;

/** The Luhn checksum every card number carries. */
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

/**
 * Whether a run holds a card number: a stretch of whole groups of 13–19 digits, written the way card numbers
 * are (one block, 4-4-4-4 with a shorter last group, or Amex/Diners 4-6-5 and 4-6-4), that passes the Luhn
 * checksum. A card number anywhere in the run counts (`Apt 4 4111 1111 1111 1111`, `4242… 12/30`). Guards
 * against false positives: phone numbers are not grouped like cards, no card number starts with 0, and a
 * 13-digit barcode (EAN-13/GTIN-13, common in product data) is told apart by its own checksum.
 */
function runHoldsCardNumber(run: string): boolean {
  const groups = run.match(GROUP) ?? [];
  for (let first = 0; first < groups.length; first++) {
    if (groups[first]!.startsWith('0')) continue;
    let digits = '';
    for (let last = first; last < groups.length; last++) {
      digits += groups[last];
      if (digits.length > MAX_DIGITS) break;
      if (digits.length >= MIN_DIGITS && cardShaped(groups, first, last) && isCardNumber(digits)) return true;
    }
  }
  return false;
}

function cardShaped(groups: readonly string[], first: number, last: number): boolean {
  if (first === last) return true;
  if (last === first + 2 && groups[first]!.length === 4 && groups[first + 1]!.length === 6) {
    const tail = groups[last]!.length;
    if (tail === 4 || tail === 5) return true; // Diners 4-6-4, Amex 4-6-5
  }
  for (let index = first; index < last; index++) if (groups[index]!.length !== 4) return false;
  return groups[last]!.length <= 4;
}

function isCardNumber(digits: string): boolean {
  return passesLuhn(digits) && !(digits.length === 13 && isGtin13(digits));
}

/** The GS1 check digit of a 13-digit barcode (weights 1 and 3 from the left). */
function isGtin13(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < 13; index++) sum += Number(digits[index]) * (index % 2 === 0 ? 1 : 3);
  return sum % 10 === 0;
}

/** True when the text contains something shaped like a card number (see `runHoldsCardNumber`). */
export function containsCardNumber(text: string): boolean {
  for (const match of text.slice(0, MAX_SCANNED_LENGTH).matchAll(DIGIT_RUN)) {
    const run = match[0];
    // `+49 170 …`: international phone numbers are written with a plus; card numbers never are.
    if (match.index > 0 && text[match.index - 1] === '+') continue;
    if (run.replace(/\D/g, '').length >= MIN_DIGITS && runHoldsCardNumber(run)) return true;
  }
  return false;
}

/**
 * Stricter than `containsCardNumber`, for places where no legitimate input has that many digits (payment
 * tokens, provider messages): any run of 13 or more digits counts, checksum or not — a mistyped card
 * number is still a card number.
 */
export function containsLongDigitRun(text: string): boolean {
  for (const run of text.slice(0, MAX_SCANNED_LENGTH).match(DIGIT_RUN) ?? []) {
    if (run.replace(/\D/g, '').length >= MIN_DIGITS) return true;
  }
  return false;
}

/** Replaces every run of 13 or more digits with a marker, for text that may be logged or shown. */
export function redactCardNumbers(text: string): string {
  return text.replace(DIGIT_RUN, (run) => (run.replace(/\D/g, '').length >= MIN_DIGITS ? '[redacted card number]' : run));
}

/**
 * Refuses free-text input holding a card number: BAD_USER_INPUT naming the first such field, with a message
 * that never repeats the input. Null and undefined fields are skipped.
 */
export function refuseCardNumbers(fields: Record<string, string | null | undefined>): void {
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value === 'string' && containsCardNumber(value)) {
      throw badInput(field, `${field} must not contain a card number`);
    }
  }
}
