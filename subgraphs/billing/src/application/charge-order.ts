import { badInput, conflict } from '@commerce/platform';
import { createEvent, type DomainEvent, type NewEvent } from '@commerce/events';
import { chargeKeyForOrder } from '../domain/idempotency.ts';
import { chargeEntry } from '../domain/ledger.ts';
import { isCurrencyCode, isPositiveAmountCents } from '../domain/money.ts';
import { isSettled, sameChargeRequest, type Payment, type PaymentFailure } from '../domain/payment.ts';
import { ProviderUnavailableError } from '../ports/payment-provider.ts';
import type { BillingDeps } from './billing-deps.ts';
import { UUID_SHAPE } from './billing-deps.ts';
import { settleUnderLease } from './settle-under-lease.ts';

export type EventCause = NewEvent<unknown>['cause'];

export interface ChargeOrderInput {
  orderId: string;
  /** The order's owner; the payment method must be theirs. */
  userId: string;
  paymentMethodId: string;
  /** The total the catalog priced (StockReserved), never a client-supplied amount. */
  amountCents: number;
  currency: string;
  /** The event that asked for the charge (correlation and causation of the events billing emits). */
  cause?: EventCause;
}

/**
 * Charges an order exactly once and returns its settled payment (CAPTURED or FAILED).
 *
 * Safe to call any number of times, concurrently too: the order's unique payment row is created once;
 * a lease lets one worker at a time talk to the provider while the others wait for its answer; the
 * provider call carries an idempotency key derived from the order, so even a worker that takes over
 * an expired lease reaches the same provider charge instead of a second one.
 */
export async function chargeOrder(deps: BillingDeps, input: ChargeOrderInput): Promise<Payment> {
  validate(input);
  const { payment: existing } = await deps.payments.createOrGet({
    id: deps.ids.newId(),
    orderId: input.orderId,
    userId: input.userId,
    paymentMethodId: UUID_SHAPE.test(input.paymentMethodId) ? input.paymentMethodId : null,
    amount: { amountCents: input.amountCents, currency: input.currency },
  });
  if (!sameChargeRequest(existing, input)) {
    deps.logger.error(
      {
        orderId: input.orderId,
        paymentId: existing.id,
        amountCents: input.amountCents,
        storedAmountCents: existing.amount.amountCents,
      },
      'charge request differs from the payment already recorded for this order',
    );
    throw conflict('This order already has a payment for a different amount or customer', { paymentId: existing.id });
  }

  // Concurrent callers wait for the worker holding the lease rather than calling the provider too.
  return settleUnderLease<Payment>(deps.timing, existing, false, {
    isSettled,
    claim: (payment) => deps.payments.claimForAttempt(payment.id, deps.timing.attemptLeaseMs),
    reread: (payment) => deps.payments.findById(payment.id),
    attempt: (claimed) => attemptCharge(deps, claimed, input.cause),
    stillBusy: 'The payment for this order is still being processed; try again shortly',
  });
}

function validate(input: ChargeOrderInput): void {
  if (!input.orderId || input.orderId.length > 200) throw badInput('orderId', 'orderId is required');
  if (!input.userId || input.userId.length > 200) throw badInput('userId', 'userId is required');
  if (!input.paymentMethodId) throw badInput('paymentMethodId', 'paymentMethodId is required');
  if (!isPositiveAmountCents(input.amountCents)) throw badInput('amountCents', 'amountCents must be a positive integer');
  if (!isCurrencyCode(input.currency)) throw badInput('currency', 'currency must be an ISO 4217 code');
}

/** One provider attempt under a held lease, ending in CAPTURED or FAILED. */
async function attemptCharge(deps: BillingDeps, payment: Payment, cause: EventCause): Promise<Payment> {
  const method = payment.paymentMethodId ? await deps.methods.findChargeable(payment.paymentMethodId) : null;
  if (!method || method.method.userId !== payment.userId || method.method.removedAt !== null || !method.providerToken) {
    return fail(deps, payment, { code: 'payment_method_unavailable', message: 'The payment method is not available' }, cause);
  }

  let result;
  try {
    result = await deps.provider.charge({
      paymentToken: method.providerToken,
      amountCents: payment.amount.amountCents,
      currency: payment.amount.currency,
      idempotencyKey: chargeKeyForOrder(payment.orderId),
      description: `Order ${payment.orderId}`,
      payer: { customerId: payment.userId, paymentMethodId: method.method.id },
    });
  } catch (error) {
    if (!(error instanceof ProviderUnavailableError)) throw error; // lease expires; a redelivery retries
    // Breaker open, this card in its back-off, or no answer in time: the order cannot wait, so the
    // payment fails (and the saga cancels the order). The provider saw the same idempotency key on every attempt.
    return fail(deps, payment, unavailableFailure(error), cause);
  }

  if (result.outcome === 'declined') {
    return fail(deps, payment, { code: 'card_declined', message: `Declined by the provider (${result.code})` }, cause);
  }
  const captured = await deps.payments.markCaptured(
    payment.id,
    result.chargeId,
    chargeEntry(deps.ids.newId(), payment, result.chargeId),
    [capturedEvent(payment, cause)],
  );
  const settled = captured ?? (await deps.payments.findById(payment.id));
  if (!settled) throw new Error(`payment ${payment.id} disappeared`);
  if (captured) {
    deps.logger.info(
      {
        paymentId: payment.id,
        orderId: payment.orderId,
        amountCents: payment.amount.amountCents,
        currency: payment.amount.currency,
      },
      'payment captured',
    );
  }
  return settled;
}

function unavailableFailure(error: ProviderUnavailableError): PaymentFailure {
  switch (error.reason) {
    case 'timeout':
      return { code: 'provider_timeout', message: 'The payment provider did not answer in time' };
    case 'card_backoff':
      return { code: 'card_retry_later', message: 'This card kept failing; try again later or use another card' };
    default:
      return { code: 'provider_unavailable', message: 'The payment provider is unavailable' };
  }
}

async function fail(deps: BillingDeps, payment: Payment, failure: PaymentFailure, cause: EventCause): Promise<Payment> {
  const failed = await deps.payments.markFailed(payment.id, failure, [failedEvent(payment, failure, cause)]);
  if (failed) deps.logger.warn({ paymentId: payment.id, orderId: payment.orderId, reason: failure.code }, 'payment failed');
  const settled = failed ?? (await deps.payments.findById(payment.id));
  if (!settled) throw new Error(`payment ${payment.id} disappeared`);
  return settled;
}

/** Events follow the shared contracts (packages/events/src/contracts/billing.ts); keyed by the order id. */
function capturedEvent(payment: Payment, cause: EventCause): DomainEvent<'PaymentCaptured'> {
  return createEvent(
    'PaymentCaptured',
    {
      paymentId: payment.id,
      orderId: payment.orderId,
      userId: payment.userId,
      amountCents: payment.amount.amountCents,
      currency: payment.amount.currency,
    },
    cause,
  );
}

function failedEvent(payment: Payment, failure: PaymentFailure, cause: EventCause): DomainEvent<'PaymentFailed'> {
  return createEvent(
    'PaymentFailed',
    {
      paymentId: payment.id,
      orderId: payment.orderId,
      userId: payment.userId,
      amountCents: payment.amount.amountCents,
      currency: payment.amount.currency,
      reason: failure.code,
      message: failure.message,
    },
    cause,
  );
}
