import { canAccessUserData, requireViewer, type Viewer } from '@commerce/platform';
import { actorOf, cancel, validateReason, type Actor, type Order } from '../domain/order.ts';
import type { EventCause } from '../ports/order-event-outbox.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { changeOrderStatus } from './change-order-status.ts';

type Deps = Pick<OrdersDependencies, 'unitOfWork' | 'clock'>;

/**
 * Cancels an order (PENDING or CONFIRMED → CANCELLED) and announces OrderCancelled, after which the
 * catalog releases the stock and billing refunds a captured payment. Cancelling a cancelled order
 * changes nothing; a shipped one cannot be cancelled (CONFLICT).
 */
export async function cancelOrder(
  deps: Deps,
  input: { orderId: string; reason: string | null; actor: Actor; cause?: EventCause; canSee?: (order: Order) => boolean },
): Promise<Order> {
  const reason = validateReason(input.reason);
  return changeOrderStatus(deps, input.orderId, (order) => cancel(order, { reason, actor: input.actor, at: deps.clock.now() }), {
    cause: input.cause,
    canSee: input.canSee,
  });
}

/** `cancelOrder(id, reason)`: customers cancel their own orders, admins any; others get NOT_FOUND. */
export async function cancelOrderAsViewer(
  deps: Deps,
  viewer: Viewer | null,
  input: { orderId: string; reason?: string | null; cause?: EventCause },
): Promise<Order> {
  const known = requireViewer(viewer);
  return cancelOrder(deps, {
    orderId: input.orderId,
    reason: input.reason ?? null,
    actor: actorOf(known),
    cause: input.cause,
    canSee: (order) => canAccessUserData(known, order.userId),
  });
}
