/**
 * Cross-service reconciliation of the order saga: what orders, catalog and billing each recorded must
 * tell one story. Pure rules over a snapshot of the four databases (read by `reconcile-snapshot.ts`),
 * so every rule can be tested on crafted data. Nothing here changes data: a violation is for a person
 * (or a test) to look at.
 *
 * Orders still in flight are not violations: a PENDING order younger than `pendingGraceMs`, or an
 * order cancelled less than `settleGraceMs` ago whose refund or stock release has not landed yet, is
 * reported under `inFlight` instead.
 */
import { findLedgerMismatch } from '../subgraphs/billing/src/domain/ledger.ts';
import type { PaymentStatus } from '../subgraphs/billing/src/domain/payment.ts';

export const SERVICES = ['catalog', 'users', 'orders', 'billing'] as const;
export type Service = (typeof SERVICES)[number];

export interface QuantityLine {
  productId: string;
  quantity: number;
}

export interface OrderRow {
  id: string;
  status: string;
  totalCents: number | null;
  currency: string | null;
  createdAt: Date;
  updatedAt: Date;
  lines: QuantityLine[];
}

export interface ReservationRow {
  orderId: string;
  status: 'RESERVED' | 'REJECTED' | 'RELEASED' | 'COMMITTED';
  totalCents: number | null;
  currency: string | null;
  lines: QuantityLine[];
}

export interface StockRow {
  productId: string;
  onHand: number;
  reserved: number;
}

export interface PaymentRow {
  id: string;
  orderId: string;
  status: PaymentStatus;
  amountCents: number;
  currency: string;
  capturedCents: number;
  refundedCents: number;
  /** What the ledger entries of this payment add up to. */
  ledgerCapturedCents: number;
  ledgerRefundedCents: number;
  /** Number of CHARGE entries (more than one is a double charge). */
  ledgerCharges: number;
}

export interface OutboxRow {
  service: Service;
  unpublished: number;
  oldestUnpublishedAt: Date | null;
}

export interface Snapshot {
  takenAt: Date;
  orders: OrderRow[];
  reservations: ReservationRow[];
  stock: StockRow[];
  payments: PaymentRow[];
  outboxes: OutboxRow[];
}

export interface ReconcileOptions {
  /** A PENDING order older than this is stuck. */
  pendingGraceMs: number;
  /** An order cancelled less than this ago may still be waiting for its refund or stock release. */
  settleGraceMs: number;
  /** An outbox event unpublished for longer than this is a backlog (relay or broker down). */
  outboxGraceMs: number;
}

export const DEFAULT_OPTIONS: ReconcileOptions = { pendingGraceMs: 120_000, settleGraceMs: 60_000, outboxGraceMs: 30_000 };

export type Rule =
  | 'ORDER_STUCK_PENDING'
  | 'ORDER_UNKNOWN_STATUS'
  | 'CONFIRMED_WITHOUT_CAPTURE'
  | 'CAPTURE_NOT_ORDER_TOTAL'
  | 'DOUBLE_CHARGE'
  | 'CANCELLED_WITH_NET_CHARGE'
  | 'CANCELLED_STOCK_HELD'
  | 'LIVE_ORDER_WITHOUT_RESERVATION'
  | 'RESERVATION_NOT_ORDER'
  | 'ORPHAN_PAYMENT'
  | 'ORPHAN_RESERVATION'
  | 'STOCK_RESERVED_MISMATCH'
  | 'STOCK_INVALID'
  | 'LEDGER_MISMATCH'
  | 'OUTBOX_BACKLOG';

export interface Violation {
  rule: Rule;
  /** Order id, product id, payment id or service name. */
  subject: string;
  detail: string;
}

export interface ReconcileReport {
  ok: boolean;
  takenAt: string;
  counts: {
    orders: Record<string, number>;
    payments: number;
    reservations: number;
    products: number;
    unpublishedOutboxEvents: Record<string, number>;
  };
  inFlight: { subject: string; detail: string }[];
  violations: Violation[];
}

const LIVE = new Set(['CONFIRMED', 'SHIPPED', 'DELIVERED']);
const KNOWN = new Set(['PENDING', 'CANCELLED', ...LIVE]);

/** Quantities per product (repeated lines summed), as a stable string for comparison. */
function quantities(lines: readonly QuantityLine[]): string {
  const sums = new Map<string, number>();
  for (const line of lines) sums.set(line.productId, (sums.get(line.productId) ?? 0) + line.quantity);
  return [...sums]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([productId, quantity]) => `${productId}×${quantity}`)
    .join(',');
}

export function reconcile(snapshot: Snapshot, options: ReconcileOptions = DEFAULT_OPTIONS): ReconcileReport {
  const now = snapshot.takenAt.getTime();
  const violations: Violation[] = [];
  const inFlight: ReconcileReport['inFlight'] = [];
  const flag = (rule: Rule, subject: string, detail: string) => violations.push({ rule, subject, detail });

  const orders = new Map(snapshot.orders.map((order) => [order.id, order]));
  const reservations = new Map(snapshot.reservations.map((reservation) => [reservation.orderId, reservation]));
  const payments = new Map<string, PaymentRow[]>();
  for (const payment of snapshot.payments) payments.set(payment.orderId, [...(payments.get(payment.orderId) ?? []), payment]);
  const net = (payment: PaymentRow) => payment.capturedCents - payment.refundedCents;

  const statusCounts: Record<string, number> = {};
  for (const order of snapshot.orders) {
    statusCounts[order.status] = (statusCounts[order.status] ?? 0) + 1;
    const orderPayments = payments.get(order.id) ?? [];
    const reservation = reservations.get(order.id);
    if (!KNOWN.has(order.status)) {
      flag('ORDER_UNKNOWN_STATUS', order.id, `status ${order.status}`);
      continue;
    }
    if (order.status === 'PENDING') {
      const age = now - order.createdAt.getTime();
      if (age > options.pendingGraceMs) flag('ORDER_STUCK_PENDING', order.id, `PENDING for ${Math.round(age / 1000)} s`);
      else inFlight.push({ subject: order.id, detail: `PENDING for ${Math.round(age / 1000)} s` });
      continue;
    }
    if (LIVE.has(order.status)) {
      const captured = orderPayments.filter((payment) => payment.capturedCents > 0);
      if (captured.length === 0) {
        flag('CONFIRMED_WITHOUT_CAPTURE', order.id, `${order.status} but no captured payment`);
      } else if (captured.length > 1) {
        flag('DOUBLE_CHARGE', order.id, `${captured.length} captured payments`);
      } else {
        const payment = captured[0]!;
        if (payment.capturedCents !== order.totalCents || payment.currency !== order.currency) {
          flag(
            'CAPTURE_NOT_ORDER_TOTAL',
            order.id,
            `captured ${payment.capturedCents} ${payment.currency}, order total ${order.totalCents} ${order.currency}`,
          );
        }
      }
      const expected = order.status === 'CONFIRMED' ? 'RESERVED' : 'COMMITTED';
      if (reservation?.status !== expected) {
        flag('LIVE_ORDER_WITHOUT_RESERVATION', order.id, `${order.status} but reservation ${reservation?.status ?? 'missing'}`);
      } else if (quantities(reservation.lines) !== quantities(order.lines) || reservation.totalCents !== order.totalCents) {
        flag(
          'RESERVATION_NOT_ORDER',
          order.id,
          `reserved [${quantities(reservation.lines)}] total ${reservation.totalCents}, ordered [${quantities(order.lines)}] total ${order.totalCents}`,
        );
      }
      continue;
    }
    // CANCELLED: no money kept, no stock held — unless the compensation is still on its way.
    const settling = now - order.updatedAt.getTime() <= options.settleGraceMs;
    const charged = orderPayments.filter((payment) => net(payment) !== 0);
    const held = reservation?.status === 'RESERVED' || reservation?.status === 'COMMITTED';
    if (charged.length > 0) {
      const detail = `cancelled but keeps ${charged.map(net).join(' + ')} cents`;
      if (settling) inFlight.push({ subject: order.id, detail });
      else flag('CANCELLED_WITH_NET_CHARGE', order.id, detail);
    }
    if (held) {
      const detail = `cancelled but reservation ${reservation.status}`;
      if (settling) inFlight.push({ subject: order.id, detail });
      else flag('CANCELLED_STOCK_HELD', order.id, detail);
    }
  }

  for (const payment of snapshot.payments) {
    if (!orders.has(payment.orderId) && net(payment) !== 0) {
      flag('ORPHAN_PAYMENT', payment.id, `keeps ${net(payment)} cents for order ${payment.orderId}, which orders does not know`);
    }
    if (payment.ledgerCharges > 1 || payment.capturedCents > payment.amountCents) {
      flag(
        'DOUBLE_CHARGE',
        payment.orderId,
        `payment ${payment.id}: ${payment.ledgerCharges} charge entries, captured ${payment.capturedCents} of ${payment.amountCents}`,
      );
    }
    const mismatch = findLedgerMismatch({
      paymentId: payment.id,
      status: payment.status,
      stored: { capturedCents: payment.capturedCents, refundedCents: payment.refundedCents },
      ledger: { capturedCents: payment.ledgerCapturedCents, refundedCents: payment.ledgerRefundedCents },
    });
    if (mismatch) flag('LEDGER_MISMATCH', payment.id, mismatch.problems.join('; '));
  }

  const reservedUnits = new Map<string, number>();
  for (const reservation of snapshot.reservations) {
    if (reservation.status === 'RESERVED') {
      for (const line of reservation.lines) {
        reservedUnits.set(line.productId, (reservedUnits.get(line.productId) ?? 0) + line.quantity);
      }
    }
    const held = reservation.status === 'RESERVED' || reservation.status === 'COMMITTED';
    if (held && !orders.has(reservation.orderId)) {
      flag('ORPHAN_RESERVATION', reservation.orderId, `reservation ${reservation.status} for an order orders does not know`);
    }
  }
  const stocked = new Set<string>();
  for (const stock of snapshot.stock) {
    stocked.add(stock.productId);
    if (stock.onHand < 0 || stock.reserved < 0 || stock.reserved > stock.onHand) {
      flag('STOCK_INVALID', stock.productId, `on hand ${stock.onHand}, reserved ${stock.reserved}`);
    }
    const expected = reservedUnits.get(stock.productId) ?? 0;
    if (stock.reserved !== expected) {
      flag('STOCK_RESERVED_MISMATCH', stock.productId, `reserved ${stock.reserved}, live reservations hold ${expected}`);
    }
  }
  for (const [productId, units] of reservedUnits) {
    if (!stocked.has(productId)) flag('STOCK_RESERVED_MISMATCH', productId, `reservations hold ${units} but no stock row`);
  }

  const unpublished: Record<string, number> = {};
  for (const outbox of snapshot.outboxes) {
    unpublished[outbox.service] = outbox.unpublished;
    if (!outbox.oldestUnpublishedAt) continue;
    const age = now - outbox.oldestUnpublishedAt.getTime();
    const detail = `${outbox.unpublished} unpublished, oldest ${Math.round(age / 1000)} s`;
    if (age > options.outboxGraceMs) flag('OUTBOX_BACKLOG', outbox.service, detail);
    else inFlight.push({ subject: `${outbox.service} outbox`, detail });
  }

  return {
    ok: violations.length === 0,
    takenAt: snapshot.takenAt.toISOString(),
    counts: {
      orders: statusCounts,
      payments: snapshot.payments.length,
      reservations: snapshot.reservations.length,
      products: snapshot.stock.length,
      unpublishedOutboxEvents: unpublished,
    },
    inFlight,
    violations,
  };
}
