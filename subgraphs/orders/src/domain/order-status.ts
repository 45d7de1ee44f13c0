import { conflict } from '@commerce/platform/errors';

/**
 * The order state machine. An order is placed PENDING; the saga confirms it once the catalog has
 * reserved (and priced) the stock and billing has captured the payment, or cancels it. A confirmed
 * order can still be cancelled (release and refund follow) until it ships.
 */
export const ORDER_STATUSES = ['PENDING', 'CONFIRMED', 'SHIPPED', 'DELIVERED', 'CANCELLED'] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  PENDING: ['CONFIRMED', 'CANCELLED'],
  CONFIRMED: ['SHIPPED', 'CANCELLED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
  CANCELLED: [],
};

export const isOrderStatus = (value: unknown): value is OrderStatus =>
  typeof value === 'string' && (ORDER_STATUSES as readonly string[]).includes(value);

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws CONFLICT for a change the state machine does not allow (including "to the same status"). */
export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) {
    throw conflict(`An order cannot go from ${from} to ${to}`, { from, to });
  }
}

/** Statuses from which nothing can happen any more. */
export const isFinal = (status: OrderStatus) => TRANSITIONS[status].length === 0;
