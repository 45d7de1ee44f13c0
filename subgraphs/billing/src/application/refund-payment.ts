import { badInput, conflict, DomainError, notFound, refuseCardNumbers, requireAdmin, type Viewer } from '@commerce/platform';
import { isPositiveAmountCents } from '../domain/money.ts';
import { decideRefund } from '../domain/payment.ts';
import { MAX_IDEMPOTENCY_KEY_LENGTH, MAX_REFUND_REASON_LENGTH, sameRefundRequest, type Refund } from '../domain/refund.ts';
import type { NewRefund } from '../ports/payment-repository.ts';
import type { BillingDeps } from './billing-deps.ts';
import { UUID_SHAPE } from './billing-deps.ts';
import type { EventCause } from './charge-order.ts';
import { settleRefund } from './settle-refund.ts';

export interface RefundPaymentInput {
  paymentId: string;
  amountCents: number;
  reason: string;
  idempotencyKey: string;
  cause?: EventCause;
}

/** An admin gives money back. Never more than was captured in total; one effect per idempotency key. */
export async function refundPayment(deps: BillingDeps, viewer: Viewer | null, input: RefundPaymentInput): Promise<Refund> {
  const admin = requireAdmin(viewer);
  if (!isPositiveAmountCents(input.amountCents)) throw badInput('amountCents', 'amountCents must be a positive integer');
  const reason = input.reason.trim();
  if (!reason || reason.length > MAX_REFUND_REASON_LENGTH) {
    throw badInput('reason', `reason is required (at most ${MAX_REFUND_REASON_LENGTH} characters)`);
  }
  // The reason travels in events and admin screens: card data typed into it would leak there.
  refuseCardNumbers({ reason });
  const key = input.idempotencyKey;
  if (!key || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw badInput(
      'idempotencyKey',
      `idempotencyKey must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} printable characters without spaces`,
    );
  }
  // Not scanned for card numbers: an opaque identifier (the scan refused one UUID key in ~4,000).
  if (!UUID_SHAPE.test(input.paymentId)) throw notFound('Payment');
  const result = await requestRefund(deps, {
    refund: { id: deps.ids.newId(), paymentId: input.paymentId, reason, idempotencyKey: key, requestedBy: admin.userId },
    amountCents: input.amountCents,
    cause: input.cause,
  });
  if (result.outcome === 'nothing_refundable') throw conflict('This payment has nothing left to refund', { refundableCents: 0 });
  return result.refund;
}

export interface RefundRequest {
  refund: NewRefund;
  /** 'remaining': everything still refundable when the payment row is locked. */
  amountCents: number | 'remaining';
  cause: EventCause;
}

export type RefundRequestResult = { outcome: 'refund'; refund: Refund } | { outcome: 'nothing_refundable' };

/**
 * Records a refund (or finds the one this key already made) and settles it. Shared by admin refunds
 * and the full refund of a cancelled order.
 */
export async function requestRefund(deps: BillingDeps, request: RefundRequest): Promise<RefundRequestResult> {
  const earlier = await deps.payments.findRefundByKey(request.refund.idempotencyKey);
  if (earlier) return { outcome: 'refund', refund: await settleDuplicate(deps, earlier, request) };

  const reservation = await deps.payments.reserveRefund(request.refund, deps.timing.attemptLeaseMs, (payment, reservedCents) =>
    decideRefund(payment, request.amountCents, reservedCents),
  );
  switch (reservation.kind) {
    case 'payment_not_found':
      throw notFound('Payment');
    case 'duplicate':
      return { outcome: 'refund', refund: await settleDuplicate(deps, reservation.refund, request) };
    case 'rejected': {
      const { reason, refundableCents } = reservation.decision;
      if (reason === 'nothing_refundable') return { outcome: 'nothing_refundable' };
      if (reason === 'not_captured') throw conflict('This payment has no captured money to refund', { refundableCents });
      // Asking for more than is left is a wrong amount (the client can fix it), not a state clash.
      throw new DomainError('BAD_USER_INPUT', `At most ${refundableCents} cents can still be refunded on this payment`, {
        field: 'amountCents',
        refundableCents,
      });
    }
    case 'reserved':
      deps.logger.info(
        {
          refundId: reservation.refund.id,
          paymentId: reservation.refund.paymentId,
          amountCents: reservation.refund.amount.amountCents,
          requestedBy: reservation.refund.requestedBy,
        },
        'refund recorded',
      );
      return { outcome: 'refund', refund: await settleRefund(deps, reservation.refund, true, request.cause) };
  }
}

function settleDuplicate(deps: BillingDeps, refund: Refund, request: RefundRequest): Promise<Refund> {
  const sameAmount =
    request.amountCents === 'remaining' || sameRefundRequest(refund, request.refund.paymentId, request.amountCents);
  if (refund.paymentId !== request.refund.paymentId || !sameAmount) {
    throw conflict('This idempotency key was already used for a different refund', { refundId: refund.id });
  }
  return settleRefund(deps, refund, false, request.cause);
}
