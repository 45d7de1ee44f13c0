import { canAccessUserData, notFound, requireViewer, type Viewer } from '@commerce/platform';
import type { Order } from '../domain/order.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { isUuid } from './validation.ts';

/**
 * An order the viewer may see: their own, or any for an admin. Someone else's order is reported
 * exactly like a missing one, so its existence never leaks.
 */
export function visibleOrNotFound(viewer: Viewer, order: Order | null | undefined): Order {
  if (!order || !canAccessUserData(viewer, order.userId)) throw notFound('Order');
  return order;
}

/** `order(id)`: the order, if the viewer may see it. */
export async function viewOrder(deps: Pick<OrdersDependencies, 'orders'>, viewer: Viewer | null, id: string): Promise<Order> {
  const known = requireViewer(viewer);
  if (!isUuid(id)) throw notFound('Order');
  const [order] = await deps.orders.findByIds([id]);
  return visibleOrNotFound(known, order);
}
