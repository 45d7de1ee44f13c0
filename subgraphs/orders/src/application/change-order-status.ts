import { notFound, requireAdmin, type Viewer } from '@commerce/platform';
import { actorOf, type Actor, type Order, type OrderUpdate } from '../domain/order.ts';
import { statusChanged } from '../domain/order-events.ts';
import type { EventCause } from '../ports/order-event-outbox.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { isUuid } from './validation.ts';

/**
 * The one way an order's status changes: lock the order, let the domain decide, store the order with
 * its new history entry and the event that announces it, all in one transaction. When the domain says
 * the change was already made (a redelivered event, a repeated cancel) nothing is written.
 */
export async function changeOrderStatus(
  deps: Pick<OrdersDependencies, 'unitOfWork'>,
  orderId: string,
  decide: (order: Order) => OrderUpdate,
  options: { cause?: EventCause; canSee?: (order: Order) => boolean } = {},
): Promise<Order> {
  if (!isUuid(orderId)) throw notFound('Order');
  return deps.unitOfWork.run(async (tx) => {
    const current = await tx.orders.lock(orderId);
    if (!current || (options.canSee && !options.canSee(current))) throw notFound('Order');
    const { order, change } = decide(current);
    if (!change) return current;
    await tx.orders.update(order, current.version, [change]);
    await tx.outbox.append([statusChanged(order, change)], options.cause);
    return order;
  });
}

/** An admin's status change (ship, deliver): recorded with the admin as the actor. */
export async function changeOrderStatusAsAdmin(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock'>,
  viewer: Viewer | null,
  input: { orderId: string; cause?: EventCause },
  decide: (order: Order, context: { reason: string | null; actor: Actor; at: Date }) => OrderUpdate,
  reason: string,
): Promise<Order> {
  const actor = actorOf(requireAdmin(viewer));
  return changeOrderStatus(deps, input.orderId, (order) => decide(order, { reason, actor, at: deps.clock.now() }), {
    cause: input.cause,
  });
}
