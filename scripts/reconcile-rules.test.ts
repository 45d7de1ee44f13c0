import { reconcile, type OrderRow, type PaymentRow, type ReservationRow, type Rule, type Snapshot } from './reconcile-rules.ts';

const NOW = new Date('2026-11-23T12:00:00Z');
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000);
const OPTIONS = { pendingGraceMs: 60_000, settleGraceMs: 30_000, outboxGraceMs: 10_000 };
const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';

const order = (
  id: string,
  status: string,
  lines = [{ productId: P1, quantity: 2 }],
  totalCents: number | null = 2000,
): OrderRow => ({
  id,
  status,
  totalCents,
  currency: 'USD',
  createdAt: ago(600),
  updatedAt: ago(500),
  lines,
});
const reservation = (
  orderId: string,
  status: ReservationRow['status'],
  lines = [{ productId: P1, quantity: 2 }],
  totalCents = 2000,
): ReservationRow => ({
  orderId,
  status,
  totalCents,
  currency: 'USD',
  lines,
});
const payment = (orderId: string, captured: number, refunded = 0, overrides: Partial<PaymentRow> = {}): PaymentRow => ({
  id: `pay-${orderId}`,
  orderId,
  status: captured === 0 ? 'FAILED' : refunded === 0 ? 'CAPTURED' : refunded === captured ? 'REFUNDED' : 'PARTIALLY_REFUNDED',
  amountCents: 2000,
  currency: 'USD',
  capturedCents: captured,
  refundedCents: refunded,
  ledgerCapturedCents: captured,
  ledgerRefundedCents: refunded,
  ledgerCharges: captured > 0 ? 1 : 0,
  ...overrides,
});

/** A shop in balance: a confirmed order, a shipped one, one cancelled after capture (refunded), one rejected, one declined. */
function consistent(): Snapshot {
  return {
    takenAt: NOW,
    orders: [
      order('confirmed', 'CONFIRMED'),
      order('shipped', 'SHIPPED', [{ productId: P2, quantity: 1 }], 1000),
      order('refunded', 'CANCELLED'),
      order('rejected', 'CANCELLED', [{ productId: P1, quantity: 99 }], null),
      order('declined', 'CANCELLED'),
    ],
    reservations: [
      reservation('confirmed', 'RESERVED'),
      reservation('shipped', 'COMMITTED', [{ productId: P2, quantity: 1 }], 1000),
      reservation('refunded', 'RELEASED'),
      reservation('rejected', 'REJECTED', []),
      reservation('declined', 'RELEASED'),
    ],
    stock: [
      { productId: P1, onHand: 10, reserved: 2 },
      { productId: P2, onHand: 4, reserved: 0 },
    ],
    payments: [
      payment('confirmed', 2000),
      payment('shipped', 1000, 0, { amountCents: 1000 }),
      payment('refunded', 2000, 2000),
      payment('declined', 0),
    ],
    outboxes: [
      { service: 'orders', unpublished: 0, oldestUnpublishedAt: null },
      { service: 'catalog', unpublished: 1, oldestUnpublishedAt: ago(2) },
    ],
  };
}

const rules = (snapshot: Snapshot) => reconcile(snapshot, OPTIONS).violations.map((violation) => violation.rule);

function caught(change: (snapshot: Snapshot) => void): Rule[] {
  const snapshot = consistent();
  change(snapshot);
  return rules(snapshot);
}

const find = <T extends { orderId?: string; id?: string }>(rows: T[], id: string) =>
  rows.find((row) => row.orderId === id || row.id === id)!;

describe('cross-service reconciliation', () => {
  it('passes a shop whose orders, stock and ledger agree, with in-flight work reported but not failed', () => {
    const snapshot = consistent();
    snapshot.orders.push({ ...order('young', 'PENDING'), createdAt: ago(5) });
    const report = reconcile(snapshot, OPTIONS);
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.counts.orders).toEqual({ CONFIRMED: 1, SHIPPED: 1, CANCELLED: 3, PENDING: 1 });
    expect(report.inFlight.map((item) => item.subject)).toEqual(['young', 'catalog outbox']);
  });

  it('catches an order stuck PENDING past the grace period', () => {
    expect(caught((s) => s.orders.push(order('stuck', 'PENDING')))).toEqual(['ORDER_STUCK_PENDING']);
  });

  it('catches a status it does not know', () => {
    expect(caught((s) => (find(s.orders, 'declined').status = 'LOST'))).toEqual(['ORDER_UNKNOWN_STATUS']);
  });

  it('catches a confirmed order without a captured payment', () => {
    expect(caught((s) => (s.payments = s.payments.filter((p) => p.orderId !== 'confirmed')))).toEqual([
      'CONFIRMED_WITHOUT_CAPTURE',
    ]);
  });

  it('catches a capture that is not the order total', () => {
    expect(
      caught((s) => {
        const p = find(s.payments, 'confirmed');
        Object.assign(p, { capturedCents: 1500, ledgerCapturedCents: 1500 });
      }),
    ).toEqual(['CAPTURE_NOT_ORDER_TOTAL']);
  });

  it('catches a double charge (two charge entries, or more captured than the amount)', () => {
    expect(
      caught((s) => {
        const p = find(s.payments, 'confirmed');
        Object.assign(p, { capturedCents: 4000, ledgerCapturedCents: 4000, ledgerCharges: 2 });
      }),
    ).toEqual(['CAPTURE_NOT_ORDER_TOTAL', 'DOUBLE_CHARGE']);
    expect(caught((s) => s.payments.push({ ...payment('confirmed', 2000), id: 'second' }))).toEqual(['DOUBLE_CHARGE']);
  });

  it('catches a cancelled order that kept money, once the refund had time to land', () => {
    expect(
      caught((s) =>
        Object.assign(find(s.payments, 'refunded'), { refundedCents: 0, ledgerRefundedCents: 0, status: 'CAPTURED' }),
      ),
    ).toEqual(['CANCELLED_WITH_NET_CHARGE']);
    const settling = consistent();
    Object.assign(find(settling.payments, 'refunded'), { refundedCents: 0, ledgerRefundedCents: 0, status: 'CAPTURED' });
    find(settling.orders, 'refunded').updatedAt = ago(3);
    const report = reconcile(settling, OPTIONS);
    expect(report.violations).toEqual([]);
    expect(report.inFlight.map((item) => item.subject)).toContain('refunded');
  });

  it('catches a cancelled order whose stock is still reserved', () => {
    expect(
      caught((s) => {
        find(s.reservations, 'refunded').status = 'RESERVED';
        s.stock[0]!.reserved = 4;
      }),
    ).toEqual(['CANCELLED_STOCK_HELD']);
  });

  it('catches a confirmed order whose stock was never reserved or was released', () => {
    expect(
      caught((s) => {
        find(s.reservations, 'confirmed').status = 'RELEASED';
        s.stock[0]!.reserved = 0;
      }),
    ).toEqual(['LIVE_ORDER_WITHOUT_RESERVATION']);
  });

  it('catches a reservation that does not match the order lines or total', () => {
    expect(
      caught((s) => {
        find(s.reservations, 'confirmed').lines = [{ productId: P1, quantity: 3 }];
        s.stock[0]!.reserved = 3;
      }),
    ).toEqual(['RESERVATION_NOT_ORDER']);
  });

  it('catches money and stock held for orders the orders service does not know', () => {
    expect(caught((s) => s.payments.push(payment('ghost', 2000)))).toEqual(['ORPHAN_PAYMENT']);
    expect(
      caught((s) => {
        s.reservations.push(reservation('ghost', 'RESERVED'));
        s.stock[0]!.reserved = 4;
      }),
    ).toEqual(['ORPHAN_RESERVATION']);
  });

  it('catches reserved units that do not add up to the live reservations', () => {
    expect(caught((s) => (s.stock[0]!.reserved = 3))).toEqual(['STOCK_RESERVED_MISMATCH']);
    expect(caught((s) => (s.stock = s.stock.slice(1)))).toEqual(['STOCK_RESERVED_MISMATCH']);
  });

  it('catches negative or over-reserved stock', () => {
    expect(caught((s) => (s.stock[1]!.onHand = -1))).toEqual(['STOCK_INVALID']);
  });

  it('catches a payment whose balances or status disagree with its ledger', () => {
    expect(caught((s) => (find(s.payments, 'refunded').ledgerRefundedCents = 1000))).toEqual(['LEDGER_MISMATCH']);
    expect(caught((s) => (find(s.payments, 'confirmed').status = 'PENDING'))).toEqual(['LEDGER_MISMATCH']);
  });

  it('catches events left in an outbox for too long', () => {
    expect(caught((s) => (s.outboxes[1]!.oldestUnpublishedAt = ago(60)))).toEqual(['OUTBOX_BACKLOG']);
  });
});
