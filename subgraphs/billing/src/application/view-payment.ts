import { canAccessUserData, forbidden, notFound, requireViewer, type Viewer } from '@commerce/platform';
import type { Payment } from '../domain/payment.ts';
import { isVisibleTo, type PaymentMethod } from '../domain/payment-method.ts';
import type { BillingDeps } from './billing-deps.ts';
import { UUID_SHAPE } from './billing-deps.ts';

/** A payment by id, for its owner or an admin; to anyone else it does not exist. */
export async function viewPayment(
  deps: Pick<BillingDeps, 'payments'>,
  viewer: Viewer | null,
  paymentId: string,
): Promise<Payment> {
  requireViewer(viewer);
  const payment = UUID_SHAPE.test(paymentId) ? await deps.payments.findById(paymentId) : null;
  if (!payment || !canAccessUserData(viewer, payment.userId)) throw notFound('Payment');
  return payment;
}

/**
 * `Order.payment`: the order's owner and admins see it. The payment row carries the order's user id,
 * so billing decides without asking the orders service. Null while the order has not been charged.
 */
export async function viewOrderPayment(
  load: (orderId: string) => Promise<Payment | null>,
  viewer: Viewer | null,
  orderId: string,
): Promise<Payment | null> {
  requireViewer(viewer);
  const payment = await load(orderId);
  if (!payment) return null;
  if (!canAccessUserData(viewer, payment.userId)) throw forbidden("You cannot see this order's payment");
  return payment;
}

/**
 * `Payment.paymentMethod`: the card the order named, shown to the card's owner only. The order's
 * buyer chose that id at checkout and could have named anyone's card (the charge then fails with
 * `payment_method_unavailable`), so the payment pointing at a card proves nothing. Anyone else,
 * admins included, gets null: the same answer as a payment without a card, so it reveals nothing.
 */
export async function viewPaymentMethodOfPayment(
  load: (paymentMethodId: string) => Promise<PaymentMethod | null>,
  viewer: Viewer | null,
  payment: Pick<Payment, 'paymentMethodId'>,
): Promise<PaymentMethod | null> {
  const { userId } = requireViewer(viewer);
  if (!payment.paymentMethodId) return null;
  const method = await load(payment.paymentMethodId);
  return method && isVisibleTo(method, userId) ? method : null;
}
