import { systemActor, confirmPayment as confirm, type Order } from '../domain/order.ts';
import type { EventCause } from '../ports/order-event-outbox.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { changeOrderStatus } from './change-order-status.ts';
import { validateReference } from './validation.ts';

/** Billing captured the payment (PaymentCaptured): PENDING → CONFIRMED. A redelivery changes nothing. */
export async function confirmPayment(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock'>,
  input: { orderId: string; paymentId: string; cause?: EventCause },
): Promise<Order> {
  const paymentId = validateReference(input.paymentId, 'paymentId');
  return changeOrderStatus(
    deps,
    input.orderId,
    (order) => confirm(order, paymentId, { reason: 'Payment captured', actor: systemActor('billing'), at: deps.clock.now() }),
    { cause: input.cause },
  );
}
