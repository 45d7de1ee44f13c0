import type { NewOrder, Order, StatusChange } from '../domain/order.ts';
import type { OrderStatus } from '../domain/order-status.ts';

/** Position of an order in the listing order (newest first, id breaks ties). */
export interface OrderCursor {
  createdAt: string;
  id: string;
}

export interface OrderFilter {
  userId?: string;
  status?: OrderStatus;
}

export interface OrderPageQuery {
  filter: OrderFilter;
  limit: number;
  after: OrderCursor | null;
}

export interface OrderRepository {
  findByIds(ids: readonly string[]): Promise<Order[]>;
  list(query: OrderPageQuery): Promise<Order[]>;
  count(filter: OrderFilter): Promise<number>;
  /** Inserts a new order with its lines and first history entry; returns it with its number. */
  insert(order: NewOrder): Promise<Order>;
  /** The order, locked until the transaction ends (serializes status changes). */
  lock(id: string): Promise<Order | null>;
  /**
   * Stores a status change. `previousVersion` guards against a lost update; `appended` are the
   * history entries added since the order was loaded.
   */
  update(order: Order, previousVersion: number, appended: StatusChange[]): Promise<void>;
  /** Stores the prices and totals the catalog confirmed. */
  updatePrices(order: Order, previousVersion: number): Promise<void>;
}
