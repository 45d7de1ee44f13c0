import { ORDER_CURRENCY, type Money } from './money.ts';
import type { Actor, NewOrder, Order, StatusChange } from './order.ts';
import type { OrderStatus } from './order-status.ts';

/**
 * What orders tells the rest of the shop (topic `orders.events`, key = order id). Payloads carry ids and
 * quantities, never catalog data; the catalog reserves and releases stock, billing charges and refunds.
 */
export interface OrderLineRef {
  productId: string;
  quantity: number;
}

export interface OrderPlacedPayload {
  orderId: string;
  orderNumber: number;
  userId: string;
  lines: OrderLineRef[];
  /** The currency the order will be priced and charged in. */
  currency: string;
  paymentMethodId: string;
  shippingAddressId: string;
  placedAt: string;
}

export interface OrderConfirmedPayload {
  orderId: string;
  userId: string;
  paymentId: string;
  total: Money | null;
}

export interface OrderCancelledPayload {
  orderId: string;
  userId: string;
  /** PENDING or CONFIRMED: a cancelled CONFIRMED order has a captured payment to refund. */
  previousStatus: OrderStatus;
  wasConfirmed: boolean;
  reason: string | null;
  actor: Actor;
  paymentId: string | null;
  lines: OrderLineRef[];
}

export interface OrderShippedPayload {
  orderId: string;
  userId: string;
  lines: OrderLineRef[];
}

export interface OrderDeliveredPayload {
  orderId: string;
  userId: string;
}

export type OrderEvent =
  | { type: 'OrderPlaced'; aggregateId: string; payload: OrderPlacedPayload }
  | { type: 'OrderConfirmed'; aggregateId: string; payload: OrderConfirmedPayload }
  | { type: 'OrderCancelled'; aggregateId: string; payload: OrderCancelledPayload }
  | { type: 'OrderShipped'; aggregateId: string; payload: OrderShippedPayload }
  | { type: 'OrderDelivered'; aggregateId: string; payload: OrderDeliveredPayload };

export type OrderEventType = OrderEvent['type'];

const lineRefs = (order: Pick<Order, 'lines'>): OrderLineRef[] =>
  order.lines.map(({ productId, quantity }) => ({ productId, quantity }));

export function orderPlaced(order: NewOrder & { number: number }): OrderEvent {
  return {
    type: 'OrderPlaced',
    aggregateId: order.id,
    payload: {
      orderId: order.id,
      orderNumber: order.number,
      userId: order.userId,
      lines: lineRefs(order),
      currency: ORDER_CURRENCY,
      paymentMethodId: order.paymentMethodId,
      shippingAddressId: order.shippingAddressId,
      placedAt: order.createdAt.toISOString(),
    },
  };
}

/** The event a status change announces. */
export function statusChanged(order: Order, change: StatusChange): OrderEvent {
  const base = { orderId: order.id, userId: order.userId };
  switch (change.to) {
    case 'CONFIRMED':
      return {
        type: 'OrderConfirmed',
        aggregateId: order.id,
        payload: {
          ...base,
          paymentId: order.paymentId ?? '',
          total: order.pricing ? { amountCents: order.pricing.totalCents, currency: order.pricing.currency } : null,
        },
      };
    case 'CANCELLED':
      return {
        type: 'OrderCancelled',
        aggregateId: order.id,
        payload: {
          ...base,
          previousStatus: change.from ?? 'PENDING',
          wasConfirmed: change.from === 'CONFIRMED',
          reason: change.reason,
          actor: change.actor,
          paymentId: order.paymentId,
          lines: lineRefs(order),
        },
      };
    case 'SHIPPED':
      return { type: 'OrderShipped', aggregateId: order.id, payload: { ...base, lines: lineRefs(order) } };
    case 'DELIVERED':
      return { type: 'OrderDelivered', aggregateId: order.id, payload: base };
    case 'PENDING':
      throw new Error('an order becomes PENDING only when it is placed (OrderPlaced)');
  }
}
