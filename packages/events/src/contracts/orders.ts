import { z } from 'zod';
import { defineEvent, previousVersion } from './define.ts';
import { currency, id, lineRef } from './common.ts';

const topic = 'orders.events';

/** v1 predates multi-currency checkout: every order was in the shop's base currency. */
const orderPlacedV1 = z.looseObject({
  orderId: id,
  userId: id,
  lines: z.array(lineRef).min(1),
  paymentMethodId: id,
});

/** The shop's only currency while OrderPlaced was v1. */
export const ORDER_PLACED_V1_CURRENCY = 'USD';

/** Saga step 1: the order is PENDING; catalog reserves its lines, billing later charges the method. */
export const OrderPlaced = defineEvent('OrderPlaced', {
  topic,
  version: 2,
  schema: orderPlacedV1.extend({ currency }),
  previous: {
    1: previousVersion(orderPlacedV1, (payload) => ({ ...payload, currency: ORDER_PLACED_V1_CURRENCY })),
  },
  aggregateId: (payload) => payload.orderId,
});

export const OrderConfirmed = defineEvent('OrderConfirmed', {
  topic,
  schema: z.looseObject({ orderId: id, userId: id, paymentId: id }),
  aggregateId: (payload) => payload.orderId,
});

/** `wasConfirmed`: a payment was captured, so billing refunds it; catalog releases the stock either way. */
export const OrderCancelled = defineEvent('OrderCancelled', {
  topic,
  schema: z.looseObject({
    orderId: id,
    reason: z.string().nullable(),
    wasConfirmed: z.boolean(),
    paymentId: id.nullable().optional(),
    lines: z.array(lineRef).optional(),
  }),
  aggregateId: (payload) => payload.orderId,
});

export const OrderShipped = defineEvent('OrderShipped', {
  topic,
  schema: z.looseObject({ orderId: id, lines: z.array(lineRef).optional() }),
  aggregateId: (payload) => payload.orderId,
});

export const OrderDelivered = defineEvent('OrderDelivered', {
  topic,
  schema: z.looseObject({ orderId: id }),
  aggregateId: (payload) => payload.orderId,
});
