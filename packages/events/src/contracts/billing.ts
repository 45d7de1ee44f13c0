import { z } from 'zod';
import { defineEvent } from './define.ts';
import { currency, id } from './common.ts';

// Keyed by the order id, so an order's payment events stay in order next to its other saga events.
const topic = 'billing.events';
const amountCents = z.number().int().nonnegative();

export const PaymentCaptured = defineEvent('PaymentCaptured', {
  topic,
  schema: z.looseObject({ orderId: id, paymentId: id, amountCents, currency: currency.optional() }),
  aggregateId: (payload) => payload.orderId,
});

export const PaymentFailed = defineEvent('PaymentFailed', {
  topic,
  schema: z.looseObject({ orderId: id, reason: z.string().min(1), paymentId: id.optional() }),
  aggregateId: (payload) => payload.orderId,
});

export const PaymentRefunded = defineEvent('PaymentRefunded', {
  topic,
  schema: z.looseObject({
    orderId: id,
    paymentId: id,
    amountCents,
    currency: currency.optional(),
    refundId: id.optional(),
  }),
  aggregateId: (payload) => payload.orderId,
});
