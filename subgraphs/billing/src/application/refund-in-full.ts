import { cancellationRefundKey } from '../domain/idempotency.ts';
import type { Payment } from '../domain/payment.ts';
import { SYSTEM_ORDER_CANCELLATION, type Refund } from '../domain/refund.ts';
import type { BillingDeps } from './billing-deps.ts';
import type { EventCause } from './charge-order.ts';
import { requestRefund } from './refund-payment.ts';

export interface RefundInFullInput {
  orderId: string;
  reason: string;
  cause?: EventCause;
}

export type RefundInFullResult =
  | { outcome: 'refunded'; refund: Refund }
  /** Nothing to give back: never charged, the charge failed, or everything is already (being) refunded. */
  | { outcome: 'nothing_to_refund'; payment: Payment | null }
  /**
   * The charge is still in flight. Nothing to give back yet, and no need to wait: its capture reaches
   * orders, which answers a capture for a cancelled order with another OrderCancelled — that one refunds
   * (as for a cancellation that arrives before the charge started at all).
   */
  | { outcome: 'charge_in_flight'; payment: Payment };

/**
 * Gives back everything still refundable on an order's payment when a customer cancels a confirmed
 * order (the saga calls this on OrderCancelled). Idempotent per order: a redelivered cancellation
 * finds the refund its first delivery made, and settles it if it is still pending.
 */
export async function refundInFull(deps: BillingDeps, input: RefundInFullInput): Promise<RefundInFullResult> {
  const payment = await deps.payments.findByOrderId(input.orderId);
  if (!payment) return { outcome: 'nothing_to_refund', payment: null };
  // Retrying this event until a slow provider answered would only end on the dead-letter topic.
  if (payment.status === 'PENDING') return { outcome: 'charge_in_flight', payment };
  if (payment.status === 'FAILED') return { outcome: 'nothing_to_refund', payment };
  const result = await requestRefund(deps, {
    refund: {
      id: deps.ids.newId(),
      paymentId: payment.id,
      reason: input.reason.trim() || 'Order cancelled',
      idempotencyKey: cancellationRefundKey(input.orderId),
      requestedBy: SYSTEM_ORDER_CANCELLATION,
    },
    amountCents: 'remaining',
    cause: input.cause,
  });
  if (result.outcome === 'nothing_refundable') return { outcome: 'nothing_to_refund', payment };
  return { outcome: 'refunded', refund: result.refund };
}
