/**
 * Card numbers (PANs) must never be stored, published in events or logged. Clients send tokens for cards;
 * free text (names, addresses, reasons, product copy) is checked here so a card number typed into it is
 * refused before it reaches a database, an event or a log. The one rule every service uses.
 */
import { badInput } from './errors.ts';

/**
 * Digit groups joined by any run of separators (anything but letters and digits: spaces, dashes, dots,
 * commas, stars, pluses, line breaks, …), so `4111 1111 1111 1111`, `4111-1111-1111-1111` and
 * `4111,  1111 / 1111 * 1111` are one run. Applied to normalised text (`normalised`).
 */
const DIGIT_RUN = /\d+(?:[^\p{L}\p{N}\p{M}]+\d+)*/gu;
const GROUP = /\d+/g;

/**
 * The text as a reader sees it: NFKC folds full-width and other compatibility digits (`４１１１`) to ASCII,
 * invisible format characters (zero-width space and joiners, soft hyphen, BOM) are dropped, and any
 * Unicode dash or space becomes `-` or a space — so none of them can hide a card number from the scan.
 */
function normalised(text: string): string {
  return text
    .slice(0, MAX_SCANNED_LENGTH)
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .replace(/[\p{Pd}\u2212]/gu, '-')
    .replace(/[\p{Zs}\p{Zl}\p{Zp}]/gu, ' ');
}

/** E.164 phone numbers have at most 15 digits: a `+` run longer than that is no phone number. */
const MAX_PHONE_DIGITS = 15;

/** Longer text is scanned only this far: no stored free-text field is longer, and scanning costs the server. */
const MAX_SCANNED_LENGTH = 100_000;

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;

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
  const scanned = normalised(text);
  for (const match of scanned.matchAll(DIGIT_RUN)) {
    const run = match[0];
    const digits = run.replace(/\D/g, '').length;
    // `+49 170 …`: an international phone number (E.164, at most 15 digits) written with its plus is not
    // checked, so a 13–15 digit one is never refused for passing the checksum by chance. A longer run after
    // a plus is no phone number (`+1 4111 1111 1111 1111`, `+4111111111111111`) and is checked like any other.
    if (match.index > 0 && scanned[match.index - 1] === '+' && digits <= MAX_PHONE_DIGITS) continue;
    if (digits >= MIN_DIGITS && runHoldsCardNumber(run)) return true;
  }
  return false;
}

/**
 * For an email's local part (shown to staff, no free-text reading): 13–19 digits that pass the Luhn checksum and
 * start with a non-zero digit, anywhere inside one block of digits (`x004111111111111111`), or whole groups
 * written like a card number (`4111-1111-1111-1111`). Stricter than `containsCardNumber` (no barcode guard, digits
 * glued to others count). Not for opaque identifiers such as idempotency keys: about one random UUID in 4,000 has
 * digit groups that pass it.
 */
export function containsCardDigits(text: string): boolean {
  for (const run of normalised(text).match(DIGIT_RUN) ?? []) {
    const groups = run.match(GROUP) ?? [];
    for (let first = 0; first < groups.length; first++) {
      if (blockHoldsCardDigits(groups[first]!)) return true;
      let digits = groups[first]!;
      for (let last = first + 1; last < groups.length && digits.length <= MAX_DIGITS; last++) {
        digits += groups[last];
        if (
          digits.length >= MIN_DIGITS &&
          digits.length <= MAX_DIGITS &&
          !digits.startsWith('0') &&
          cardShaped(groups, first, last) &&
          passesLuhn(digits)
        )
          return true;
      }
    }
  }
  return false;
}

function blockHoldsCardDigits(block: string): boolean {
  for (let start = 0; start + MIN_DIGITS <= block.length; start++) {
    if (block[start] === '0') continue;
    for (let length = MIN_DIGITS; length <= MAX_DIGITS && start + length <= block.length; length++) {
      if (passesLuhn(block.slice(start, start + length))) return true;
    }
  }
  return false;
}

/** Refuses an identifier holding a card number (`containsCardDigits`): BAD_USER_INPUT, input not repeated. */
export function refuseCardDigits(field: string, value: string | null | undefined): void {
  if (typeof value === 'string' && containsCardDigits(value)) throw badInput(field, `${field} must not contain a card number`);
}

/**
 * Stricter than `containsCardNumber`, for places where no legitimate input has that many digits (payment
 * tokens, provider messages): any run of 13 or more digits counts, checksum or not — a mistyped card
 * number is still a card number.
 */
export function containsLongDigitRun(text: string): boolean {
  for (const run of normalised(text).match(DIGIT_RUN) ?? []) {
    if (run.replace(/\D/g, '').length >= MIN_DIGITS) return true;
  }
  return false;
}

/** Replaces every run of 13 or more digits with a marker, for text that may be logged or shown (normalised). */
export function redactCardNumbers(text: string): string {
  return normalised(text).replace(DIGIT_RUN, (run) =>
    run.replace(/\D/g, '').length >= MIN_DIGITS ? '[redacted card number]' : run,
  );
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
