import type { Money } from './money.ts';

export type PaymentStatus = 'PENDING' | 'CAPTURED' | 'FAILED' | 'REFUNDED' | 'PARTIALLY_REFUNDED';

/** Why a payment failed; kept on the payment and sent in PaymentFailed. */
export type PaymentFailureCode =
  /** The provider declined the card (its own code is kept in the message). */
  | 'card_declined'
  /** The method is missing, removed, or belongs to someone else. */
  | 'payment_method_unavailable'
  /** The provider did not answer in time; nothing was captured as far as we know. */
  | 'provider_timeout'
  /** This card's recent charges kept failing, so it is refused for a while without asking the provider. */
  | 'card_retry_later'
  /** The provider kept failing or its circuit breaker is open. */
  | 'provider_unavailable';

export interface PaymentFailure {
  code: PaymentFailureCode;
  message: string;
}

export interface Payment {
  id: string;
  orderId: string;
  /** The order's owner: billing authorizes reads with it, without asking the orders service. */
  userId: string;
  paymentMethodId: string | null;
  status: PaymentStatus;
  /** What the catalog priced the order at: the only amount that is ever charged. */
  amount: Money;
  capturedCents: number;
  refundedCents: number;
  providerChargeId: string | null;
  failure: PaymentFailure | null;
  attempts: number;
  createdAt: Date;
  updatedAt: Date;
  settledAt: Date | null;
}

export const isSettled = (payment: Pick<Payment, 'status'>): boolean => payment.status !== 'PENDING';

export const hasCapturedMoney = (payment: Pick<Payment, 'status'>): boolean =>
  payment.status === 'CAPTURED' || payment.status === 'PARTIALLY_REFUNDED' || payment.status === 'REFUNDED';

/** Money that can still go back: captured, minus refunded, minus refunds in flight. */
export const refundableCents = (payment: Pick<Payment, 'capturedCents' | 'refundedCents'>, reservedCents = 0): number =>
  Math.max(0, payment.capturedCents - payment.refundedCents - reservedCents);

/** The status a captured payment has once `refundedCents` of it went back. */
export function statusAfterRefunds(capturedCents: number, refundedCents: number): PaymentStatus {
  if (refundedCents <= 0) return 'CAPTURED';
  return refundedCents >= capturedCents ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
}

export type RefundDecision =
  | { allowed: true; amountCents: number }
  | { allowed: false; reason: 'not_captured' | 'exceeds_refundable' | 'nothing_refundable'; refundableCents: number };

/**
 * Whether `requested` cents more may be refunded ('remaining' = everything still refundable), given
 * refunds already in flight. Callers evaluate this while holding the payment row's lock, so two
 * concurrent refunds cannot both pass it. Refunds are always in the payment's currency.
 */
export function decideRefund(
  payment: Pick<Payment, 'status' | 'capturedCents' | 'refundedCents'>,
  requested: number | 'remaining',
  reservedCents: number,
): RefundDecision {
  if (!hasCapturedMoney(payment)) return { allowed: false, reason: 'not_captured', refundableCents: 0 };
  const refundable = refundableCents(payment, reservedCents);
  if (requested === 'remaining') {
    return refundable > 0
      ? { allowed: true, amountCents: refundable }
      : { allowed: false, reason: 'nothing_refundable', refundableCents: 0 };
  }
  if (requested > refundable) return { allowed: false, reason: 'exceeds_refundable', refundableCents: refundable };
  return { allowed: true, amountCents: requested };
}

/** A repeated charge request must describe the same charge; anything else is a caller bug worth refusing. */
export function sameChargeRequest(
  payment: Pick<Payment, 'userId' | 'amount'>,
  request: { userId: string; amountCents: number; currency: string },
): boolean {
  return (
    payment.userId === request.userId &&
    payment.amount.amountCents === request.amountCents &&
    payment.amount.currency === request.currency
  );
}
