import type { EventEnvelope } from '@commerce/events';
import type { CreatedAtCursor } from '@commerce/platform';
import type { LedgerEntry, NewLedgerEntry, StoredAndLedgerBalances } from '../domain/ledger.ts';
import type { Money } from '../domain/money.ts';
import type { Payment, PaymentFailure, RefundDecision } from '../domain/payment.ts';
import type { Refund } from '../domain/refund.ts';

export interface NewPayment {
  id: string;
  orderId: string;
  userId: string;
  paymentMethodId: string | null;
  amount: Money;
}

/** A refund to record; its amount and currency come from the decision taken under the payment's lock. */
export interface NewRefund {
  id: string;
  paymentId: string;
  reason: string;
  idempotencyKey: string;
  requestedBy: string;
}

export type RefundReservation =
  | { kind: 'reserved'; refund: Refund }
  | { kind: 'rejected'; decision: Extract<RefundDecision, { allowed: false }> }
  /** Another request already used this idempotency key. */
  | { kind: 'duplicate'; refund: Refund }
  | { kind: 'payment_not_found' };

/**
 * Payments, refunds and the ledger. Every state change that moves money writes its ledger entry and
 * its outbox events in the same transaction, and only from the expected prior state (PENDING), so a
 * change applied twice (two workers, a retry) takes effect once.
 */
export interface PaymentRepository {
  findById(id: string): Promise<Payment | null>;
  findByIds(ids: readonly string[]): Promise<Payment[]>;
  findByOrderId(orderId: string): Promise<Payment | null>;
  findByOrderIds(orderIds: readonly string[]): Promise<Payment[]>;

  /** Inserts a PENDING payment unless the order already has one (unique order id); returns the order's payment. */
  createOrGet(payment: NewPayment): Promise<{ payment: Payment; created: boolean }>;
  /**
   * Takes the right to call the provider for a PENDING payment for `leaseMs` (no other worker holds it,
   * or its lease ran out). Returns the claimed payment, or null when it is settled or claimed elsewhere.
   */
  claimForAttempt(paymentId: string, leaseMs: number): Promise<Payment | null>;
  /** PENDING → CAPTURED with its ledger entry and events; null if it was no longer PENDING. */
  markCaptured(
    paymentId: string,
    providerChargeId: string,
    entry: NewLedgerEntry,
    events: EventEnvelope[],
  ): Promise<Payment | null>;
  /** PENDING → FAILED with its reason and events; null if it was no longer PENDING. */
  markFailed(paymentId: string, failure: PaymentFailure, events: EventEnvelope[]): Promise<Payment | null>;

  findRefundById(id: string): Promise<Refund | null>;
  findRefundByKey(idempotencyKey: string): Promise<Refund | null>;
  /** Oldest first, id breaking ties. */
  listRefunds(paymentId: string, query: { limit: number; after: CreatedAtCursor | null }): Promise<Refund[]>;
  countRefunds(paymentId: string): Promise<number>;
  /**
   * Locks the payment row, totals the refunds in flight, lets `decide` judge the request against them,
   * and records a PENDING refund of the decided amount (already claimed for `leaseMs`) only when
   * allowed — all in one transaction.
   */
  reserveRefund(
    refund: NewRefund,
    leaseMs: number,
    decide: (payment: Payment, reservedCents: number) => RefundDecision,
  ): Promise<RefundReservation>;
  claimRefundForAttempt(refundId: string, leaseMs: number): Promise<Refund | null>;
  /** Gives up a claim early (the provider was unavailable) so a retry need not wait for the lease. */
  releaseRefundClaim(refundId: string): Promise<void>;
  /**
   * PENDING → SUCCEEDED; adds the amount to the payment's refunded balance (its status follows), writes
   * the ledger entry and the events the callback builds from the updated payment. Null if no longer PENDING.
   */
  completeRefund(
    refundId: string,
    providerRefundId: string,
    entry: NewLedgerEntry,
    events: (payment: Payment, refund: Refund) => EventEnvelope[],
  ): Promise<{ refund: Refund; payment: Payment } | null>;
  /** PENDING → FAILED, which releases its reservation. */
  failRefund(refundId: string, failure: { code: string; message: string }): Promise<Refund | null>;

  ledgerEntries(paymentId: string): Promise<LedgerEntry[]>;
  /** Stored balances next to ledger sums, for payments after `afterId` in id order. */
  balancesPage(afterId: string | null, limit: number): Promise<StoredAndLedgerBalances[]>;
}
