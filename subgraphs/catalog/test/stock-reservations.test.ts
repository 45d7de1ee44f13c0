import { DomainError } from '@commerce/platform';
import { commitStock } from '../src/application/commit-stock.ts';
import { releaseStock } from '../src/application/release-stock.ts';
import { reserveStock } from '../src/application/reserve-stock.ts';
import { InMemoryCatalogStore } from './in-memory-catalog-store.ts';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const usd = (amountCents: number) => ({ amountCents, currency: 'USD' });
const placed = { correlationId: 'checkout-1', causationId: 'event-order-placed', traceparent: null };

let store: InMemoryCatalogStore;
beforeEach(() => {
  store = new InMemoryCatalogStore();
  store.addProduct({ id: A, sku: 'A', slug: 'a', price: usd(1500), stock: { onHand: 5, reserved: 0 } });
  store.addProduct({ id: B, sku: 'B', slug: 'b', price: usd(250), stock: { onHand: 2, reserved: 1 } });
});

const stockOf = (id: string) => store.state.products.get(id)!.stock;

describe('reserveStock', () => {
  it('reserves every line at the current price and emits StockReserved and StockChanged', async () => {
    const outcome = await reserveStock(
      store,
      {
        orderId: 'order-1',
        lines: [
          { productId: B, quantity: 1 },
          { productId: A, quantity: 2 },
        ],
      },
      placed,
    );
    expect(outcome).toEqual({
      status: 'RESERVED',
      orderId: 'order-1',
      replayed: false,
      lines: [
        { productId: A, quantity: 2, unitPrice: usd(1500), lineTotal: usd(3000) },
        { productId: B, quantity: 1, unitPrice: usd(250), lineTotal: usd(250) },
      ],
      total: usd(3250),
    });
    expect(stockOf(A)).toEqual({ onHand: 5, reserved: 2 });
    expect(stockOf(B)).toEqual({ onHand: 2, reserved: 2 });
    expect(store.state.events.map((entry) => entry.event.type)).toEqual(['StockReserved', 'StockChanged', 'StockChanged']);
    expect(store.state.events.every((entry) => entry.cause === placed)).toBe(true);
  });

  it('answers a redelivered order with the first answer and changes nothing', async () => {
    const command = { orderId: 'order-1', lines: [{ productId: A, quantity: 5 }] };
    const first = await reserveStock(store, command);
    // Prices changing later do not change the answer: it is the reservation that was made.
    store.state.products.get(A)!.price = usd(9999);
    const again = await reserveStock(store, command);
    expect(again).toEqual({ ...first, replayed: true });
    expect(stockOf(A)).toEqual({ onHand: 5, reserved: 5 });
    expect(store.events).toHaveLength(2);
  });

  it('rejects all lines when one is short, reserves nothing, and remembers the rejection', async () => {
    const command = {
      orderId: 'order-2',
      lines: [
        { productId: A, quantity: 1 },
        { productId: B, quantity: 2 },
      ],
    };
    const outcome = await reserveStock(store, command);
    expect(outcome).toEqual({
      status: 'REJECTED',
      orderId: 'order-2',
      replayed: false,
      rejection: { reason: 'INSUFFICIENT_STOCK', lines: [{ productId: B, requested: 2, available: 1 }] },
    });
    expect(stockOf(A)).toEqual({ onHand: 5, reserved: 0 });
    // Even after a restock, the same order gets the same answer.
    store.state.products.get(B)!.stock = { onHand: 100, reserved: 0 };
    expect(await reserveStock(store, command)).toEqual({ ...outcome, replayed: true });
    expect(store.events.map((event) => event.type)).toEqual(['StockRejected']);
  });

  it('rejects unknown products as unavailable (a malformed id too)', async () => {
    const outcome = await reserveStock(store, { orderId: 'order-3', lines: [{ productId: 'not-a-uuid', quantity: 1 }] });
    expect(outcome).toMatchObject({ status: 'REJECTED', rejection: { reason: 'PRODUCT_UNAVAILABLE' } });
  });

  it('refuses malformed commands as bad input', async () => {
    await expect(reserveStock(store, { orderId: '', lines: [{ productId: A, quantity: 1 }] })).rejects.toMatchObject({
      details: { field: 'orderId' },
    });
    await expect(reserveStock(store, { orderId: 'o', lines: [] })).rejects.toMatchObject({ details: { field: 'lines' } });
    await expect(reserveStock(store, { orderId: 'o', lines: [{ productId: A, quantity: 0 }] })).rejects.toMatchObject({
      details: { field: 'lines[0].quantity' },
    });
  });
});

describe('releaseStock', () => {
  it('gives reserved units back once', async () => {
    await reserveStock(store, { orderId: 'order-1', lines: [{ productId: A, quantity: 3 }] });
    expect(await releaseStock(store, { orderId: 'order-1' })).toEqual({ orderId: 'order-1', status: 'RELEASED', released: true });
    expect(await releaseStock(store, { orderId: 'order-1' })).toEqual({
      orderId: 'order-1',
      status: 'RELEASED',
      released: false,
    });
    expect(stockOf(A)).toEqual({ onHand: 5, reserved: 0 });
    expect(store.events.map((event) => event.type)).toEqual(['StockReserved', 'StockChanged', 'StockReleased', 'StockChanged']);
  });

  it('leaves a marker when the cancellation overtakes the order, so the late order is rejected', async () => {
    expect(await releaseStock(store, { orderId: 'order-9' })).toMatchObject({ released: false, status: 'RELEASED' });
    const late = await reserveStock(store, { orderId: 'order-9', lines: [{ productId: A, quantity: 1 }] });
    expect(late).toMatchObject({ status: 'REJECTED', rejection: { reason: 'ORDER_RELEASED' }, replayed: false });
    expect(stockOf(A).reserved).toBe(0);
    expect(await reserveStock(store, { orderId: 'order-9', lines: [{ productId: A, quantity: 1 }] })).toMatchObject({
      replayed: true,
    });
    expect(store.events.map((event) => event.type)).toEqual(['StockRejected']);
  });
});

describe('commitStock', () => {
  it('takes shipped units off the shelf once', async () => {
    await reserveStock(store, { orderId: 'order-1', lines: [{ productId: A, quantity: 2 }] });
    expect(await commitStock(store, { orderId: 'order-1' })).toEqual({
      orderId: 'order-1',
      status: 'COMMITTED',
      committed: true,
    });
    expect(await commitStock(store, { orderId: 'order-1' })).toMatchObject({ committed: false });
    expect(stockOf(A)).toEqual({ onHand: 3, reserved: 0 });
    // Shipped goods are not released by a late cancellation.
    expect(await releaseStock(store, { orderId: 'order-1' })).toMatchObject({ status: 'COMMITTED', released: false });
    expect(stockOf(A)).toEqual({ onHand: 3, reserved: 0 });
  });

  it('refuses to ship an order that has nothing reserved', async () => {
    await expect(commitStock(store, { orderId: 'never-reserved' })).rejects.toBeInstanceOf(DomainError);
    await reserveStock(store, { orderId: 'order-2', lines: [{ productId: B, quantity: 5 }] });
    await expect(commitStock(store, { orderId: 'order-2' })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
