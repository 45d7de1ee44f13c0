import type { Money } from './money.ts';

export type RefundStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

export interface Refund {
  id: string;
  paymentId: string;
  amount: Money;
  reason: string;
  idempotencyKey: string;
  /** The admin's user id, or a `system:` actor for refunds the order saga asks for. */
  requestedBy: string;
  status: RefundStatus;
  providerRefundId: string | null;
  failure: { code: string; message: string } | null;
  attempts: number;
  createdAt: Date;
  updatedAt: Date;
  settledAt: Date | null;
}

export const MAX_REFUND_REASON_LENGTH = 500;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

export const isRefundSettled = (refund: Pick<Refund, 'status'>): boolean => refund.status !== 'PENDING';

export const SYSTEM_ORDER_CANCELLATION = 'system:order-cancellation';

/** A retried request with the same key must ask for the same refund, or it is refused. */
export const sameRefundRequest = (
  refund: Pick<Refund, 'paymentId' | 'amount'>,
  paymentId: string,
  amountCents: number,
): boolean => refund.paymentId === paymentId && refund.amount.amountCents === amountCents;
