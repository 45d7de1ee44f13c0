import { randomUUID } from 'node:crypto';
import type { EventPayloadInput, EventType } from '../src/index.ts';

const productId = '5a0f3c43-4b7e-4d7e-9a55-6f1f2b0c1a01';
const orderId = 'f4b1d7b0-2c1e-4a8e-8d4a-0c9b7e3d2a10';
const userId = '0d6c2f0e-9a7b-4f3d-8b1e-5e2a4c6d8f20';
const usd = (amountCents: number) => ({ amountCents, currency: 'USD' });

/** A valid payload for every event type (the record type makes a missing one a compile error). */
export const examplePayloads: { [K in EventType]: EventPayloadInput<K> } = {
  ProductCreated: { productId, sku: 'MUG-1', slug: 'mug', name: 'Mug', price: usd(1200), categoryId: null },
  ProductUpdated: { productId, sku: 'MUG-1', slug: 'mug', name: 'Big mug', price: usd(1500), changedFields: ['name', 'price'] },
  ProductArchived: { productId, slug: 'mug' },
  StockChanged: { productId, available: 7, reason: 'ADJUSTMENT' },
  StockReserved: {
    orderId,
    lines: [
      { productId, quantity: 2, unitPrice: usd(1200), lineTotal: usd(2400) },
      { productId: randomUUID(), quantity: 1, unitPrice: usd(500), lineTotal: usd(500) },
    ],
    total: usd(2900),
  },
  StockRejected: { orderId, reason: 'INSUFFICIENT_STOCK', lines: [{ productId, requested: 3, available: 1 }] },
  StockReleased: { orderId, lines: [{ productId, quantity: 2 }] },
  UserRegistered: { userId, email: 'ada@example.com', name: 'Ada', role: 'CUSTOMER' },
  OrderPlaced: { orderId, userId, lines: [{ productId, quantity: 2 }], paymentMethodId: randomUUID(), currency: 'EUR' },
  OrderConfirmed: { orderId, userId, paymentId: randomUUID() },
  OrderCancelled: { orderId, reason: 'customer changed their mind', wasConfirmed: true, paymentId: randomUUID() },
  OrderShipped: { orderId },
  OrderDelivered: { orderId },
  PaymentCaptured: { orderId, paymentId: randomUUID(), amountCents: 2900, currency: 'USD' },
  PaymentFailed: { orderId, reason: 'card_declined' },
  PaymentRefunded: { orderId, paymentId: randomUUID(), amountCents: 2900 },
};

export const ids = { productId, orderId, userId };
