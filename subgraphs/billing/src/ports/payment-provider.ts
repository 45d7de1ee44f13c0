import type { CardDetails } from '../domain/payment-method.ts';

/**
 * The payment processor, as billing needs it. Every money-moving call carries an idempotency key:
 * the provider must answer a repeated key with the first call's result and never move money twice.
 * `signal` aborts a call the caller stopped waiting for (timeouts).
 */
export interface PaymentProvider {
  readonly name: string;
  /** Card details behind a token from the provider's payment form; null when the token is unknown. */
  describePaymentMethod(request: DescribeRequest, signal?: AbortSignal): Promise<CardDetails | null>;
  charge(request: ChargeRequest, signal?: AbortSignal): Promise<ChargeResult>;
  refund(request: ProviderRefundRequest, signal?: AbortSignal): Promise<ProviderRefundResult>;
}

export interface DescribeRequest {
  token: string;
  /** Billing's id of the customer saving the card: a failure is theirs, not the provider's. */
  customerId: string;
}

export interface ChargeRequest {
  paymentToken: string;
  amountCents: number;
  currency: string;
  idempotencyKey: string;
  /** Shown on the provider's dashboard; never card data. */
  description: string;
  /** Who pays with which saved card (billing's own ids, like a processor's customer and payment method). */
  payer: ChargePayer;
}

/**
 * Billing's ids for the customer and the saved card behind a charge. The resilience layer keeps failures
 * per card and per customer with them, so one card that keeps failing cannot open the circuit for all.
 */
export interface ChargePayer {
  customerId: string;
  paymentMethodId: string;
}

/** A decline is an answer, not a failure: it is never retried and does not trip the circuit breaker. */
export type ChargeResult = { outcome: 'captured'; chargeId: string } | { outcome: 'declined'; code: string; message: string };

export interface ProviderRefundRequest {
  chargeId: string;
  amountCents: number;
  currency: string;
  idempotencyKey: string;
  /** The customer the refunded payment belongs to (billing's id), so its failures are counted under them. */
  customerId: string;
}

/**
 * Whether a saved card has paid before. The resilience layer counts only such cards' failures as evidence
 * that the provider is failing (failure-isolation.ts); it remembers what it saw and asks this port otherwise.
 */
export interface PaymentMethodStanding {
  /** True when a payment with this saved card was ever captured. */
  hasCapturedPayment(paymentMethodId: string): Promise<boolean>;
}

export type ProviderRefundResult =
  { outcome: 'refunded'; refundId: string } | { outcome: 'rejected'; code: string; message: string };

/** The provider failed in a way that is safe to retry with the same idempotency key (e.g. 5xx, reset connection). */
export class ProviderTransientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProviderTransientError';
  }
}

/** `card_backoff`: this card kept failing, so billing refuses it for a while without asking the provider. */
export type ProviderUnavailableReason = 'timeout' | 'circuit_open' | 'card_backoff' | 'retries_exhausted' | 'error';

/**
 * The provider could not be reached in a useful time: after retries, on timeout, while its circuit
 * is open, or (for one card) while that card's back-off lasts. Raised by the resilience layer, so use cases see one error type for "no answer".
 */
export class ProviderUnavailableError extends Error {
  constructor(
    readonly reason: ProviderUnavailableReason,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderUnavailableError';
  }
}
