/** The one card-number rule for free text: true positives, and the ordinary text it must let through. */
import { DomainError } from '../src/errors.ts';
import {
  containsCardDigits,
  containsCardNumber,
  containsLongDigitRun,
  passesLuhn,
  redactCardNumbers,
  refuseCardDigits,
  refuseCardNumbers,
} from '../src/card-numbers.ts';

describe('containsCardNumber', () => {
  it.each([
    ['a Visa test number', '4111111111111111'],
    ['a number with spaces', '4242 4242 4242 4242'],
    ['a number with dashes', '5555-5555-5555-4444'],
    ['an Amex number (15 digits, 4-6-5 groups)', '3782 822463 10005'],
    ['13 digits', '4222222222222'],
    ['13 digits that are not a barcode', '4917012345600'],
    ['19 digits', '6011000990139424124'],
    ['a number inside a sentence', 'please refund to my card 4000 0566 5566 5556 thanks'],
    ['a number followed by its expiry', 'card 4242 4242 4242 4242 12 30'],
    ['a number after other digits', 'Apt 4 4111 1111 1111 1111'],
    ['a 13-digit number in 4-4-4-1 groups', '4222 2222 2222 2'],
    ['a number glued to letters', 'ref4111111111111111x'],
    ['dots and slashes as separators', '4242.4242/4242_4242'],
    // Bypasses found in review: each must be caught.
    ['en dashes as separators', '4111\u20131111\u20131111\u20131111'],
    ['em dashes as separators', '4111\u20141111\u20141111\u20141111'],
    ['a minus sign as separator', '4111\u22121111\u22121111\u22121111'],
    ['a country code in front', '+1 4111 1111 1111 1111'],
    ['a plus in front of 16 digits (no phone number is that long)', 'call +4111111111111111'],
    ['full-width digits', '\uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11'],
    ['zero-width spaces between groups', '4111\u200b1111\u200b1111\u200b1111'],
    ['zero-width spaces between every digit', [...'4111111111111111'].join('\u200b')],
    ['a soft hyphen and word joiners', '4111\u00ad1111\u20601111\ufeff1111'],
    ['commas as separators', '4111,1111,1111,1111'],
    ['four or more spaces between groups', '4111    1111 1111 1111'],
    ['no-break and thin spaces', '4111\u00a01111\u20091111\u30001111'],
    ['stars and pluses as separators', '4111*1111+1111*1111'],
    ['tabs and line breaks', '4111\t1111\n1111 \r\n 1111'],
  ])('finds %s', (_name, text) => {
    expect(containsCardNumber(text)).toBe(true);
  });

  it.each([
    ['an order number', 'ORD-001042'],
    ['a phone number', '+1 (415) 555-0100'],
    ['an international phone number', '+49 30 1234 5678 90'],
    ['a postcode and street', '221B Baker Street, London NW1 6XE'],
    ['a US ZIP+4', '94103-1234'],
    ['a date and time', 'delivered 2026-12-07 21:05'],
    ['a Luhn-invalid 16-digit number', '4111 1111 1111 1112'],
    ['a 12-digit number', '123456789012'],
    ['Luhn-valid digits grouped like a phone number', '491 701 234 5600'],
    ['a 20-digit tracking number', '12345678901234567890'],
    ['a number that starts with 0', '0000 0000 0000 0000'],
    // Each of these is Luhn-valid: only the guard lets it through.
    ['an international phone number whose digits pass Luhn', 'call +49 170 1234 5600'],
    ['the same number with a 00 prefix', '0049 170 1234 5600'],
    ['an EAN-13 barcode whose digits pass Luhn', 'EAN 4006381333924'],
    ['ordinary text', 'Changed my mind, sorry!'],
    ['a product description with figures', 'Pack of 12, 250 ml each, 2024 model, SKU 998-1'],
    ['a plus-prefixed 15-digit E.164 number whose digits pass Luhn', 'call +491701234560000'],
    ['a list of sizes', 'Sizes: 36, 38, 40, 42, 44, 46'],
    ['an order number and a date', 'Order 1042 — 2026–12–07'],
    ['a Luhn-invalid number in full-width digits', '\uff14\uff11\uff11\uff11 1111 1111 1112'],
  ])('lets %s through', (_name, text) => {
    expect(containsCardNumber(text)).toBe(false);
  });

  it('scans long text in bounded time', () => {
    const started = Date.now();
    expect(containsCardNumber('1 '.repeat(200_000))).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('refuseCardNumbers', () => {
  it('names the first field holding a card number, without echoing it', () => {
    let error: unknown;
    try {
      refuseCardNumbers({ line1: '1 Main St', line2: 'card 4111 1111 1111 1111', city: 'Springfield' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'line2' } });
    expect((error as Error).message).not.toContain('4111');
  });

  it('passes ordinary fields, nulls and undefined', () => {
    expect(() =>
      refuseCardNumbers({ name: 'Ada Lovelace', phone: '+44 20 7946 0958', region: null, label: undefined }),
    ).not.toThrow();
  });
});

describe('stricter helpers for tokens and logs', () => {
  it('counts any run of 13 or more digits, checksum or not', () => {
    expect(containsLongDigitRun('tok_1234567812345678')).toBe(true);
    expect(containsLongDigitRun('tok 1234 5678')).toBe(false);
  });

  it('redacts card numbers from text and keeps the rest', () => {
    expect(redactCardNumbers('charge 4242 4242 4242 4242 for order 12')).toBe('charge [redacted card number] for order 12');
    expect(redactCardNumbers('no digits here')).toBe('no digits here');
  });

  it('knows the Luhn checksum', () => {
    expect(passesLuhn('4242424242424242')).toBe(true);
    expect(passesLuhn('4242424242424241')).toBe(false);
    expect(passesLuhn('42a2')).toBe(false);
  });
});

describe('containsCardDigits (email local parts, idempotency keys)', () => {
  it.each([
    ['an email local part', '4111111111111111@x.com'],
    ['an idempotency key', 'order-4111111111111111'],
    ['a key with the number split by dashes', 'key-4111-1111-1111-1111'],
    ['a number inside a longer digit run', '99994111111111111111'],
    ['a 13-digit number shaped like a barcode', 'ean4006381333924'],
  ])('finds %s', (_name, text) => {
    expect(containsCardDigits(text)).toBe(true);
  });

  it.each([
    ['a UUID', '3f2b9c1e-7a4d-4e0b-9c55-1d2e3f4a5b6c'],
    ['an ordinary email', 'jane.doe+shop2026@example.com'],
    ['a UUID whose groups are all digits', '12345678-1234-4234-8234-123456789012'],
    ['a Luhn-invalid 13-digit key', 'key-4111111111112'],
    ['Luhn-invalid card-shaped groups', 'key-4111-1111-1111-1112'],
    ['12 digits', 'k-123456789012'],
  ])('lets %s through', (_name, text) => {
    expect(containsCardDigits(text)).toBe(false);
  });

  it('refuses with BAD_USER_INPUT naming the field, without echoing the value', () => {
    let error: unknown;
    try {
      refuseCardDigits('idempotencyKey', 'k4111111111111111');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).message).not.toContain('4111');
    expect(() => refuseCardDigits('idempotencyKey', 'a-uuid-like-key')).not.toThrow();
  });
});
