import {
  canAccessUserData,
  decodeCursor,
  encodeCursor,
  forbidden,
  pageSize,
  requireAdmin,
  requireViewer,
  toConnection,
  type Connection,
  type Viewer,
} from '@commerce/platform';
import type { Order } from '../domain/order.ts';
import type { OrderStatus } from '../domain/order-status.ts';
import type { OrderCursor, OrderFilter, OrderRepository } from '../ports/order-repository.ts';

export interface OrderPageInput {
  first?: number | null;
  after?: string | null;
  status?: OrderStatus | null;
}

const isOrderCursor = (value: unknown): value is OrderCursor =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as OrderCursor).id === 'string' &&
  typeof (value as OrderCursor).createdAt === 'string' &&
  !Number.isNaN(Date.parse((value as OrderCursor).createdAt));

const cursorOf = (order: Order) => encodeCursor({ createdAt: order.createdAt.toISOString(), id: order.id });

async function page(orders: OrderRepository, filter: OrderFilter, input: OrderPageInput): Promise<Connection<Order>> {
  const size = pageSize(input.first);
  const after = input.after ? decodeCursor(input.after, isOrderCursor) : null;
  const rows = await orders.list({ filter, limit: size + 1, after });
  return toConnection(rows, size, cursorOf, () => orders.count(filter), after !== null);
}

/** `User.orders`: a user's orders, newest first; only the user themself and admins may list them. */
export async function listUserOrders(
  deps: { orders: OrderRepository },
  viewer: Viewer | null,
  userId: string,
  input: OrderPageInput,
): Promise<Connection<Order>> {
  const known = requireViewer(viewer);
  if (!canAccessUserData(known, userId)) throw forbidden('You can only list your own orders');
  return page(deps.orders, { userId, status: input.status ?? undefined }, input);
}

/** Admin `orders(filter)`: every order, newest first, optionally by status and user. */
export async function listAllOrders(
  deps: { orders: OrderRepository },
  viewer: Viewer | null,
  input: OrderPageInput & { filter?: { status?: OrderStatus | null; userId?: string | null } | null },
): Promise<Connection<Order>> {
  requireAdmin(viewer);
  const filter: OrderFilter = {
    status: input.filter?.status ?? input.status ?? undefined,
    userId: input.filter?.userId ?? undefined,
  };
  return page(deps.orders, filter, input);
}
