import type { Viewer } from '@commerce/platform';
import { ship, type Order } from '../domain/order.ts';
import type { EventCause } from '../ports/order-event-outbox.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { changeOrderStatusAsAdmin } from './change-order-status.ts';

/** Admin: CONFIRMED → SHIPPED (OrderShipped lets the catalog commit the reserved stock). */
export function shipOrder(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock'>,
  viewer: Viewer | null,
  input: { orderId: string; cause?: EventCause },
): Promise<Order> {
  return changeOrderStatusAsAdmin(deps, viewer, input, ship, 'Shipped');
}
