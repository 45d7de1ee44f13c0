import { DomainError } from '@commerce/platform';
import { createEvent } from '@commerce/events';
import { providerKeyForRefund } from '../domain/idempotency.ts';
import { refundEntry } from '../domain/ledger.ts';
import { isRefundSettled, type Refund } from '../domain/refund.ts';
import { ProviderUnavailableError } from '../ports/payment-provider.ts';
import type { BillingDeps } from './billing-deps.ts';
import { settleUnderLease } from './settle-under-lease.ts';
import type { EventCause } from './charge-order.ts';

/**
 * Drives a recorded refund to SUCCEEDED or FAILED. `claimed` says the caller already holds its lease
 * (it just reserved it). While the provider is unavailable the refund stays PENDING — its amount stays
 * reserved, because the money is owed — and the caller gets SERVICE_UNAVAILABLE to retry with the same key.
 */
export function settleRefund(deps: BillingDeps, refund: Refund, claimed: boolean, cause: EventCause): Promise<Refund> {
  return settleUnderLease<Refund>(deps.timing, refund, claimed, {
    isSettled: isRefundSettled,
    claim: (pending) => deps.payments.claimRefundForAttempt(pending.id, deps.timing.attemptLeaseMs),
    reread: (pending) => deps.payments.findRefundById(pending.id),
    attempt: (leased) => attemptRefund(deps, leased, cause),
    stillBusy: 'This refund is still being processed; retry with the same idempotency key',
  });
}

async function attemptRefund(deps: BillingDeps, refund: Refund, cause: EventCause): Promise<Refund> {
  const payment = await deps.payments.findById(refund.paymentId);
  if (!payment?.providerChargeId) throw new Error(`refund ${refund.id} belongs to a payment without a provider charge`);

  let result;
  try {
    result = await deps.provider.refund({
      chargeId: payment.providerChargeId,
      amountCents: refund.amount.amountCents,
      currency: refund.amount.currency,
      idempotencyKey: providerKeyForRefund(refund.id),
      customerId: payment.userId,
    });
  } catch (error) {
    if (error instanceof ProviderUnavailableError) {
      await deps.payments.releaseRefundClaim(refund.id);
      deps.logger.warn(
        { refundId: refund.id, paymentId: refund.paymentId, reason: error.reason },
        'refund waiting for the payment provider',
      );
      throw new DomainError('SERVICE_UNAVAILABLE', 'The payment provider is unavailable; retry with the same idempotency key', {
        refundId: refund.id,
      });
    }
    throw error;
  }

  if (result.outcome === 'rejected') {
    const failed = await deps.payments.failRefund(refund.id, { code: result.code, message: result.message });
    deps.logger.warn(
      { refundId: refund.id, paymentId: refund.paymentId, reason: result.code },
      'refund rejected by the provider',
    );
    return failed ?? (await reread(deps, refund.id));
  }

  const completed = await deps.payments.completeRefund(
    refund.id,
    result.refundId,
    refundEntry(deps.ids.newId(), refund, result.refundId),
    (updatedPayment, updatedRefund) => [
      createEvent(
        'PaymentRefunded',
        {
          paymentId: updatedPayment.id,
          orderId: updatedPayment.orderId,
          userId: updatedPayment.userId,
          refundId: updatedRefund.id,
          amountCents: updatedRefund.amount.amountCents,
          currency: updatedRefund.amount.currency,
          // Everything refunded on this payment so far, this refund included.
          totalRefundedCents: updatedPayment.refundedCents,
          fullyRefunded: updatedPayment.status === 'REFUNDED',
          reason: updatedRefund.reason,
        },
        cause,
      ),
    ],
  );
  if (completed) {
    deps.logger.info(
      {
        refundId: refund.id,
        paymentId: refund.paymentId,
        amountCents: refund.amount.amountCents,
        status: completed.payment.status,
      },
      'refund succeeded',
    );
    return completed.refund;
  }
  return reread(deps, refund.id);
}

async function reread(deps: BillingDeps, refundId: string): Promise<Refund> {
  const refund = await deps.payments.findRefundById(refundId);
  if (!refund) throw new Error(`refund ${refundId} disappeared`);
  return refund;
}
