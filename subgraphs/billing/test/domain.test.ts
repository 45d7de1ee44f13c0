import { checkPaymentToken } from '../src/domain/card-input.ts';
import { balancesFromLedger, chargeEntry, findLedgerMismatch, refundEntry } from '../src/domain/ledger.ts';
import { isPositiveAmountCents, MAX_AMOUNT_CENTS } from '../src/domain/money.ts';
import { decideRefund, refundableCents, sameChargeRequest, statusAfterRefunds, type Payment } from '../src/domain/payment.ts';
import { isExpired, isWellFormedCard } from '../src/domain/payment-method.ts';
import { chargeKeyForOrder, cancellationRefundKey, providerKeyForRefund } from '../src/domain/idempotency.ts';

describe('payment token guard', () => {
  it.each([
    ['a Luhn-valid number', '4242424242424242'],
    ['a number with spaces', '4242 4242 4242 4242'],
    ['a number with dashes', '4000-0566-5566-5556'],
    ['a Luhn-invalid 16-digit number (a mistyped card number is still one)', '1234567812345678'],
    ['13 digits', '4222222222222'],
    ['19 digits', '6011000990139424123'],
    ['a number inside other text', 'card: 5555 5555 5555 4444 exp 12/30'],
    ['a number glued to a token prefix', 'tok_4242424242424242'],
    ['mixed separators', '4242.4242/4242_4242'],
  ])('treats %s as a card number', (_name, input) => {
    expect(checkPaymentToken(input)).toEqual({ ok: false, problem: 'card_number' });
  });

  it.each([['tok_visa'], ['tok_chargeDeclined'], ['pm_1MqLiJLkdIwHu7ixUEgbFdYF']])('accepts the token %s', (input) => {
    expect(checkPaymentToken(input)).toEqual({ ok: true, token: input });
  });

  it('accepts provider-shaped tokens and refuses malformed ones without echoing them', () => {
    expect(checkPaymentToken(' tok_visa ')).toEqual({ ok: true, token: 'tok_visa' });
    expect(checkPaymentToken('')).toEqual({ ok: false, problem: 'malformed' });
    expect(checkPaymentToken('tok visa')).toEqual({ ok: false, problem: 'malformed' });
    expect(checkPaymentToken('x'.repeat(256))).toEqual({ ok: false, problem: 'malformed' });
    expect(checkPaymentToken("tok_'; DROP TABLE payments;--")).toEqual({ ok: false, problem: 'malformed' });
    expect(checkPaymentToken('1'.repeat(100_000))).toEqual({ ok: false, problem: 'malformed' });
  });
});

const payment = (overrides: Partial<Payment> = {}): Payment => ({
  id: 'p1',
  orderId: 'o1',
  userId: 'u1',
  paymentMethodId: null,
  status: 'CAPTURED',
  amount: { amountCents: 10_000, currency: 'USD' },
  capturedCents: 10_000,
  refundedCents: 0,
  providerChargeId: 'ch_1',
  failure: null,
  attempts: 1,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  settledAt: new Date(0),
  ...overrides,
});

describe('payment rules', () => {
  it('derives the status from what was refunded', () => {
    expect(statusAfterRefunds(10_000, 0)).toBe('CAPTURED');
    expect(statusAfterRefunds(10_000, 1)).toBe('PARTIALLY_REFUNDED');
    expect(statusAfterRefunds(10_000, 9_999)).toBe('PARTIALLY_REFUNDED');
    expect(statusAfterRefunds(10_000, 10_000)).toBe('REFUNDED');
  });

  it('counts refunds in flight against what is refundable', () => {
    expect(refundableCents(payment({ refundedCents: 2_000 }))).toBe(8_000);
    expect(refundableCents(payment({ refundedCents: 2_000 }), 3_000)).toBe(5_000);
    expect(refundableCents(payment({ refundedCents: 9_000 }), 3_000)).toBe(0);
  });

  it('allows refunds up to the captured amount and no further', () => {
    expect(decideRefund(payment(), 10_000, 0)).toEqual({ allowed: true, amountCents: 10_000 });
    expect(decideRefund(payment(), 10_001, 0)).toEqual({ allowed: false, reason: 'exceeds_refundable', refundableCents: 10_000 });
    expect(decideRefund(payment({ refundedCents: 4_000, status: 'PARTIALLY_REFUNDED' }), 6_000, 0)).toEqual({
      allowed: true,
      amountCents: 6_000,
    });
    expect(decideRefund(payment({ refundedCents: 4_000, status: 'PARTIALLY_REFUNDED' }), 6_000, 1)).toMatchObject({
      allowed: false,
      refundableCents: 5_999,
    });
  });

  it('refunds "the remaining amount" as everything not refunded or in flight', () => {
    expect(decideRefund(payment({ refundedCents: 2_500, status: 'PARTIALLY_REFUNDED' }), 'remaining', 500)).toEqual({
      allowed: true,
      amountCents: 7_000,
    });
    expect(decideRefund(payment({ refundedCents: 10_000, status: 'REFUNDED' }), 'remaining', 0)).toMatchObject({
      allowed: false,
      reason: 'nothing_refundable',
    });
  });

  it('never refunds a payment that captured nothing', () => {
    for (const status of ['PENDING', 'FAILED'] as const) {
      expect(decideRefund(payment({ status, capturedCents: 0 }), 1, 0)).toEqual({
        allowed: false,
        reason: 'not_captured',
        refundableCents: 0,
      });
    }
  });

  it('recognizes a repeated charge request only when it asks for the same charge', () => {
    const stored = payment();
    expect(sameChargeRequest(stored, { userId: 'u1', amountCents: 10_000, currency: 'USD' })).toBe(true);
    expect(sameChargeRequest(stored, { userId: 'u1', amountCents: 10_001, currency: 'USD' })).toBe(false);
    expect(sameChargeRequest(stored, { userId: 'u2', amountCents: 10_000, currency: 'USD' })).toBe(false);
    expect(sameChargeRequest(stored, { userId: 'u1', amountCents: 10_000, currency: 'EUR' })).toBe(false);
  });

  it('accepts only positive integer cents that fit the database', () => {
    expect(isPositiveAmountCents(1)).toBe(true);
    expect(isPositiveAmountCents(MAX_AMOUNT_CENTS)).toBe(true);
    for (const bad of [0, -1, 1.5, MAX_AMOUNT_CENTS + 1, Number.NaN]) expect(isPositiveAmountCents(bad)).toBe(false);
  });

  it('derives idempotency keys from what they protect', () => {
    expect(chargeKeyForOrder('o1')).toBe(chargeKeyForOrder('o1'));
    expect(chargeKeyForOrder('o1')).not.toBe(chargeKeyForOrder('o2'));
    expect(cancellationRefundKey('o1')).not.toBe(chargeKeyForOrder('o1'));
    expect(providerKeyForRefund('r1')).toBe('refund:r1');
  });
});

describe('payment methods', () => {
  it('treats a card as valid through the end of its expiry month', () => {
    const now = new Date(Date.UTC(2030, 5, 30)); // June 2030
    expect(isExpired({ expMonth: 6, expYear: 2030 }, now)).toBe(false);
    expect(isExpired({ expMonth: 5, expYear: 2030 }, now)).toBe(true);
    expect(isExpired({ expMonth: 12, expYear: 2029 }, now)).toBe(true);
    expect(isExpired({ expMonth: 1, expYear: 2031 }, now)).toBe(false);
  });

  it('only keeps well-formed card details', () => {
    expect(isWellFormedCard({ brand: 'VISA', last4: '4242', expMonth: 12, expYear: 2030 })).toBe(true);
    expect(isWellFormedCard({ brand: 'VISA', last4: '42424', expMonth: 12, expYear: 2030 })).toBe(false);
    expect(isWellFormedCard({ brand: 'VISA', last4: '4242', expMonth: 13, expYear: 2030 })).toBe(false);
    expect(isWellFormedCard({ brand: '', last4: '4242', expMonth: 1, expYear: 2030 })).toBe(false);
  });
});

describe('ledger', () => {
  const captured = payment();
  const entries = [
    chargeEntry('l1', captured, 'ch_1'),
    refundEntry('l2', { id: 'r1', paymentId: 'p1', amount: { amountCents: 2_500, currency: 'USD' } }, 're_1'),
    refundEntry('l3', { id: 'r2', paymentId: 'p1', amount: { amountCents: 500, currency: 'USD' } }, 're_2'),
  ];

  it('records captures as positive and refunds as negative entries, one per movement', () => {
    expect(entries.map((entry) => [entry.kind, entry.amountCents, entry.entryKey])).toEqual([
      ['CHARGE', 10_000, 'charge:p1'],
      ['REFUND', -2_500, 'refund:r1'],
      ['REFUND', -500, 'refund:r2'],
    ]);
  });

  it('recomputes balances from entries alone', () => {
    expect(balancesFromLedger(entries)).toEqual({ capturedCents: 10_000, refundedCents: 3_000 });
    expect(balancesFromLedger([])).toEqual({ capturedCents: 0, refundedCents: 0 });
  });

  it('finds no mismatch when stored balances and status agree with the ledger', () => {
    const ledger = balancesFromLedger(entries);
    expect(findLedgerMismatch({ paymentId: 'p1', status: 'PARTIALLY_REFUNDED', stored: ledger, ledger })).toBeNull();
    const none = { capturedCents: 0, refundedCents: 0 };
    expect(findLedgerMismatch({ paymentId: 'p2', status: 'FAILED', stored: none, ledger: none })).toBeNull();
    expect(findLedgerMismatch({ paymentId: 'p3', status: 'PENDING', stored: none, ledger: none })).toBeNull();
  });

  it('reports stored balances or statuses that differ from the ledger', () => {
    const ledger = balancesFromLedger(entries);
    expect(
      findLedgerMismatch({
        paymentId: 'p1',
        status: 'PARTIALLY_REFUNDED',
        stored: { capturedCents: 10_000, refundedCents: 2_999 },
        ledger,
      })?.problems,
    ).toEqual(['refunded 2999 but ledger has 3000']);
    expect(findLedgerMismatch({ paymentId: 'p1', status: 'REFUNDED', stored: ledger, ledger })?.problems).toEqual([
      'status REFUNDED does not match the ledger',
    ]);
    const none = { capturedCents: 0, refundedCents: 0 };
    expect(
      findLedgerMismatch({ paymentId: 'p2', status: 'CAPTURED', stored: { capturedCents: 100, refundedCents: 0 }, ledger: none })
        ?.problems,
    ).toEqual(['captured 100 but ledger has 0', 'status CAPTURED does not match the ledger']);
  });
});
