/**
 * The use cases on the real schema in embedded PostgreSQL (PGlite): carts, checkout with idempotency
 * keys, the saga-facing commands, and who may see what. The catalog port is answered from a list here;
 * the graph tests ask the real catalog service.
 */
import { randomUUID } from 'node:crypto';
import { addToCart } from '../src/application/add-to-cart.ts';
import { cancelOrder, cancelOrderAsViewer } from '../src/application/cancel-order.ts';
import { checkout } from '../src/application/checkout.ts';
import { clearCart } from '../src/application/clear-cart.ts';
import { confirmPayment } from '../src/application/confirm-payment.ts';
import { deliverOrder } from '../src/application/deliver-order.ts';
import { IDEMPOTENCY_KEY_TTL_MS } from '../src/application/idempotent-placement.ts';
import { listAllOrders, listUserOrders } from '../src/application/list-orders.ts';
import { markStockReserved } from '../src/application/mark-stock-reserved.ts';
import { viewOrder } from '../src/application/order-access.ts';
import { placeOrder } from '../src/application/place-order.ts';
import { removeFromCart } from '../src/application/remove-from-cart.ts';
import { shipOrder } from '../src/application/ship-order.ts';
import { updateCartLine } from '../src/application/update-cart-line.ts';
import { viewCart } from '../src/application/view-cart.ts';
import { systemActor } from '../src/domain/order.ts';
import { addressNamed, admin, customer, openOrdersTestDatabase, rejection, type OrdersTestDatabase } from './orders-test-kit.ts';

let db: OrdersTestDatabase;
const P1 = randomUUID();
const P2 = randomUUID();
const ARCHIVED = randomUUID();
const usd = (amountCents: number) => ({ amountCents, currency: 'USD' });

// Migrating a fresh database takes a few seconds, far more on a busy machine.
beforeAll(async () => {
  db = await openOrdersTestDatabase('pglite:memory');
  db.catalog.available.add(P1).add(P2);
}, 120_000);
afterAll(() => db?.close());

const outboxOf = (orderId: string) =>
  db.prisma.outboxEvent.findMany({ where: { aggregateId: orderId }, orderBy: { sequence: 'asc' } });

async function fillCart(userId: string, ...lines: [string, number][]) {
  await clearCart(db.deps, customer(userId));
  for (const [productId, quantity] of lines) await addToCart(db.deps, customer(userId), { productId, quantity });
}

const payWith = (idempotencyKey: string) => ({ paymentMethodId: 'pm_visa', shippingAddressId: 'addr-home', idempotencyKey });

describe('cart', () => {
  const user = customer(`cart-${randomUUID()}`);

  it('is empty at first and refuses anonymous callers', async () => {
    expect((await viewCart(db.deps, user)).lines).toEqual([]);
    expect((await rejection(viewCart(db.deps, null))).code).toBe('UNAUTHENTICATED');
    expect((await rejection(addToCart(db.deps, null, { productId: P1, quantity: 1 }))).code).toBe('UNAUTHENTICATED');
  });

  it('adds, merges, updates, removes and clears lines, persisted between calls', async () => {
    await addToCart(db.deps, user, { productId: P1, quantity: 2 });
    await addToCart(db.deps, user, { productId: P2, quantity: 1 });
    await addToCart(db.deps, user, { productId: P1, quantity: 3 });
    expect((await viewCart(db.deps, user)).lines.map((l) => [l.productId, l.quantity])).toEqual([
      [P1, 5],
      [P2, 1],
    ]);
    await updateCartLine(db.deps, user, { productId: P2, quantity: 9 });
    await removeFromCart(db.deps, user, { productId: P1 });
    expect((await viewCart(db.deps, user)).lines.map((l) => [l.productId, l.quantity])).toEqual([[P2, 9]]);
    await clearCart(db.deps, user);
    expect((await viewCart(db.deps, user)).lines).toEqual([]);
  });

  it('refuses unknown or archived products with NOT_FOUND and bad quantities naming the field', async () => {
    expect((await rejection(addToCart(db.deps, user, { productId: ARCHIVED, quantity: 1 }))).code).toBe('NOT_FOUND');
    expect(await rejection(addToCart(db.deps, user, { productId: P1, quantity: 0 }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'quantity',
    });
    expect(await rejection(addToCart(db.deps, user, { productId: P1, quantity: 100 }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'quantity',
    });
    await addToCart(db.deps, user, { productId: P1, quantity: 1 });
    expect(await rejection(updateCartLine(db.deps, user, { productId: P1, quantity: 100 }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'quantity',
    });
    expect((await rejection(updateCartLine(db.deps, user, { productId: P2, quantity: 1 }))).code).toBe('NOT_FOUND');
  });

  it('keeps carts apart per user', async () => {
    const other = customer(`cart-other-${randomUUID()}`);
    await addToCart(db.deps, other, { productId: P2, quantity: 4 });
    expect((await viewCart(db.deps, user)).lines.map((l) => l.productId)).not.toContain(P2);
    expect((await viewCart(db.deps, other)).lines.map((l) => [l.productId, l.quantity])).toEqual([[P2, 4]]);
  });
});

describe('cart stock: the early, honest answer', () => {
  const LAST_THREE = randomUUID();
  const SOLD_OUT = randomUUID();
  beforeAll(() => {
    db.catalog.available.add(LAST_THREE).add(SOLD_OUT);
    db.catalog.stock.set(LAST_THREE, 3).set(SOLD_OUT, 0);
  });

  it('refuses a sold-out product and more than is available with INSUFFICIENT_STOCK and available', async () => {
    const user = customer(`stock-${randomUUID()}`);
    expect(await rejection(addToCart(db.deps, user, { productId: SOLD_OUT, quantity: 1 }))).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      field: 'quantity',
    });
    const refused = addToCart(db.deps, user, { productId: LAST_THREE, quantity: 99 });
    await expect(refused).rejects.toMatchObject({ code: 'INSUFFICIENT_STOCK', details: { available: 3, productId: LAST_THREE } });
    expect((await viewCart(db.deps, user)).lines).toEqual([]);
  });

  it('counts what the cart already holds, and checks updateCartLine too', async () => {
    const user = customer(`stock-${randomUUID()}`);
    await addToCart(db.deps, user, { productId: LAST_THREE, quantity: 2 });
    await expect(addToCart(db.deps, user, { productId: LAST_THREE, quantity: 2 })).rejects.toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      details: { available: 3 },
    });
    await addToCart(db.deps, user, { productId: LAST_THREE, quantity: 1 });
    await expect(updateCartLine(db.deps, user, { productId: LAST_THREE, quantity: 4 })).rejects.toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      details: { available: 3 },
    });
    await updateCartLine(db.deps, user, { productId: LAST_THREE, quantity: 1 });
    expect((await viewCart(db.deps, user)).lines.map((l) => [l.productId, l.quantity])).toEqual([[LAST_THREE, 1]]);
  });

  it('refuses updateCartLine for a product archived since it was added', async () => {
    const user = customer(`stock-${randomUUID()}`);
    const leaving = randomUUID();
    db.catalog.available.add(leaving);
    await addToCart(db.deps, user, { productId: leaving, quantity: 1 });
    db.catalog.available.delete(leaving);
    expect((await rejection(updateCartLine(db.deps, user, { productId: leaving, quantity: 2 }))).code).toBe('NOT_FOUND');
  });
});

describe('checkout', () => {
  it('turns the cart into a PENDING order with OrderPlaced in the outbox and empties the cart', async () => {
    const user = customer(`buyer-${randomUUID()}`);
    await fillCart(user.userId, [P1, 2], [P2, 1]);
    const order = await checkout(db.deps, user, { ...payWith(randomUUID()), cause: { correlationId: 'req-1' } });
    expect(order).toMatchObject({ status: 'PENDING', userId: user.userId, pricing: null, paymentMethodId: 'pm_visa' });
    expect(order.lines).toEqual([
      { productId: P1, quantity: 2, unitPriceCents: null },
      { productId: P2, quantity: 1, unitPriceCents: null },
    ]);
    expect(order.number).toBeGreaterThan(0);
    expect((await viewCart(db.deps, user)).lines).toEqual([]);
    const [event, ...rest] = await outboxOf(order.id);
    expect(rest).toEqual([]);
    expect(event).toMatchObject({ topic: 'orders.events', type: 'OrderPlaced', aggregateId: order.id, publishedAt: null });
    expect(event!.envelope).toMatchObject({
      type: 'OrderPlaced',
      aggregateId: order.id,
      correlationId: 'req-1',
      payload: {
        orderId: order.id,
        userId: user.userId,
        lines: [
          { productId: P1, quantity: 2 },
          { productId: P2, quantity: 1 },
        ],
        paymentMethodId: 'pm_visa',
      },
    });
  });

  it('refuses an empty cart without using up the key', async () => {
    const user = customer(`empty-${randomUUID()}`);
    const key = randomUUID();
    expect(await rejection(checkout(db.deps, user, payWith(key)))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'cart' });
    await fillCart(user.userId, [P1, 1]);
    expect((await checkout(db.deps, user, payWith(key))).status).toBe('PENDING');
  });

  it('answers a retry with the same key with the same order and does nothing else', async () => {
    const user = customer(`retry-${randomUUID()}`);
    const key = randomUUID();
    await fillCart(user.userId, [P1, 3]);
    const first = await checkout(db.deps, user, payWith(key));
    const again = await checkout(db.deps, user, payWith(key));
    expect(again.id).toBe(first.id);
    expect(await db.prisma.order.count({ where: { userId: user.userId } })).toBe(1);
    expect(await outboxOf(first.id)).toHaveLength(1);
    // The same cart put back again is still the same request: same order, and the cart is left alone.
    await fillCart(user.userId, [P1, 3]);
    expect((await checkout(db.deps, user, payWith(key))).id).toBe(first.id);
    expect((await viewCart(db.deps, user)).lines).toHaveLength(1);
  });

  it('accepts every UUID key, even one whose digit groups pass the card checksum', async () => {
    // A card-number scan of keys refused this one (4125 4205 9896 0344 is Luhn-valid): one UUID in ~4,000.
    const user = customer(`uuid-key-${randomUUID()}`);
    await fillCart(user.userId, [P1, 1]);
    const order = await checkout(db.deps, user, payWith('e004db22-4125-4205-9896-0344fda98656'));
    expect(order.status).toBe('PENDING');
    const placed = await placeOrder(db.deps, user, {
      ...payWith('1db98297-6944-4912-8344-785cbbc416e6'),
      lines: [{ productId: P1, quantity: 1 }],
    });
    expect(placed.status).toBe('PENDING');
  });

  it('refuses the same key for a different cart, payment method, address or operation with CONFLICT', async () => {
    const user = customer(`conflict-${randomUUID()}`);
    const key = randomUUID();
    await fillCart(user.userId, [P1, 1]);
    await checkout(db.deps, user, payWith(key));
    await fillCart(user.userId, [P2, 1]);
    expect(await rejection(checkout(db.deps, user, payWith(key)))).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    expect((await viewCart(db.deps, user)).lines).toHaveLength(1); // untouched by the refused retry
    await clearCart(db.deps, user);
    expect((await rejection(checkout(db.deps, user, { ...payWith(key), paymentMethodId: 'pm_other' }))).code).toBe('CONFLICT');
    expect((await rejection(checkout(db.deps, user, { ...payWith(key), shippingAddressId: 'addr-work' }))).code).toBe('CONFLICT');
    expect((await rejection(placeOrder(db.deps, user, { ...payWith(key), lines: [{ productId: P1, quantity: 1 }] }))).code).toBe(
      'CONFLICT',
    );
    expect(await db.prisma.order.count({ where: { userId: user.userId } })).toBe(1);
  });

  it('scopes keys per user', async () => {
    const key = randomUUID();
    const [a, b] = [customer(`scope-a-${randomUUID()}`), customer(`scope-b-${randomUUID()}`)];
    await fillCart(a.userId, [P1, 1]);
    await fillCart(b.userId, [P1, 1]);
    const [orderA, orderB] = [await checkout(db.deps, a, payWith(key)), await checkout(db.deps, b, payWith(key))];
    expect(orderA.id).not.toBe(orderB.id);
  });

  it('forgets keys after 24 hours', async () => {
    const user = customer(`expiry-${randomUUID()}`);
    const [key, otherKey] = [randomUUID(), randomUUID()];
    await fillCart(user.userId, [P1, 1]);
    const first = await checkout(db.deps, user, payWith(key));
    await fillCart(user.userId, [P1, 3]);
    await checkout(db.deps, user, payWith(otherKey));
    await fillCart(user.userId, [P2, 2]);
    db.clock.advance(IDEMPOTENCY_KEY_TTL_MS - 1000);
    expect((await rejection(checkout(db.deps, user, payWith(key)))).code).toBe('CONFLICT');
    db.clock.advance(2000);
    const second = await checkout(db.deps, user, payWith(key));
    expect(second.id).not.toBe(first.id);
    expect(second.lines).toEqual([{ productId: P2, quantity: 2, unitPriceCents: null }]);
    // Expired keys are deleted, not just ignored: only the reused key is left, with its new order.
    expect(
      await db.prisma.idempotencyKey.findMany({ where: { userId: user.userId }, select: { key: true, orderId: true } }),
    ).toEqual([{ key, orderId: second.id }]);
  });

  it('validates the key and the references', async () => {
    const user = customer(`validate-${randomUUID()}`);
    expect(await rejection(checkout(db.deps, user, payWith('short')))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'idempotencyKey',
    });
    expect(await rejection(checkout(db.deps, user, { ...payWith(randomUUID()), paymentMethodId: ' ' }))).toMatchObject({
      field: 'paymentMethodId',
    });
    expect((await rejection(checkout(db.deps, null, payWith(randomUUID())))).code).toBe('UNAUTHENTICATED');
  });
});

describe('the shipping address', () => {
  const ordersOf = (userId: string) => db.prisma.order.count({ where: { userId } });

  it('keeps a snapshot of the buyer’s own address on the order; later changes to the address book do not reach it', async () => {
    const user = customer(`ship-${randomUUID()}`);
    const home = addressNamed('Ada Lovelace');
    db.addresses.add(user.userId, 'home-1', home);
    await fillCart(user.userId, [P1, 1]);
    const key = randomUUID();
    const order = await checkout(db.deps, user, { ...payWith(key), shippingAddressId: 'home-1' });
    expect(order.shippingAddress).toEqual(home);
    db.addresses.add(user.userId, 'home-1', { ...home, city: 'Elsewhere' });
    const [stored] = await db.deps.orders.findByIds([order.id]);
    expect(stored!.shippingAddress).toEqual(home);
    // A retry gets the same order even after the address was removed from the book.
    db.addresses.owned.delete(`${user.userId}/home-1`);
    const again = await checkout(db.deps, user, { ...payWith(key), shippingAddressId: 'home-1' });
    expect(again).toMatchObject({ id: order.id, shippingAddress: home });
  });

  it('refuses an address that is not the buyer’s with BAD_USER_INPUT: no order, the key stays usable', async () => {
    const owner = customer(`owner-${randomUUID()}`);
    const thief = customer(`thief-${randomUUID()}`);
    db.addresses.add(owner.userId, 'owners-home', addressNamed('Owner'));
    await fillCart(thief.userId, [P1, 1]);
    const key = randomUUID();
    for (const shippingAddressId of ['owners-home', 'no-such-address']) {
      expect(await rejection(checkout(db.deps, thief, { ...payWith(key), shippingAddressId }))).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'shippingAddressId',
      });
      expect(
        await rejection(
          placeOrder(db.deps, thief, { ...payWith(key), shippingAddressId, lines: [{ productId: P1, quantity: 1 }] }),
        ),
      ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'shippingAddressId' });
    }
    expect(await ordersOf(thief.userId)).toBe(0);
    expect(await db.deps.unitOfWork.run((tx) => tx.idempotency.find(thief.userId, key))).toBeNull();
    expect((await viewCart(db.deps, thief)).lines).toHaveLength(1);
    // The same key then works with an address of the buyer's own.
    expect((await checkout(db.deps, thief, payWith(key))).shippingAddress).toEqual(addressNamed(thief.userId));
  });

  it('is SERVICE_UNAVAILABLE while users cannot answer: no order, no key used', async () => {
    const user = customer(`outage-${randomUUID()}`);
    await fillCart(user.userId, [P1, 1]);
    const key = randomUUID();
    db.addresses.down = true;
    try {
      expect((await rejection(checkout(db.deps, user, payWith(key)))).code).toBe('SERVICE_UNAVAILABLE');
      expect(
        (await rejection(placeOrder(db.deps, user, { ...payWith(key), lines: [{ productId: P1, quantity: 1 }] }))).code,
      ).toBe('SERVICE_UNAVAILABLE');
    } finally {
      db.addresses.down = false;
    }
    expect(await ordersOf(user.userId)).toBe(0);
    expect((await checkout(db.deps, user, payWith(key))).status).toBe('PENDING');
  });
});

describe('placeOrder (mobile)', () => {
  it('checks the lines with the catalog, then places the order like checkout', async () => {
    const user = customer(`mobile-${randomUUID()}`);
    const key = randomUUID();
    const lines = [
      { productId: P2, quantity: 4 },
      { productId: P1, quantity: 1 },
    ];
    expect(
      (await rejection(placeOrder(db.deps, user, { ...payWith(key), lines: [{ productId: ARCHIVED, quantity: 1 }] }))).code,
    ).toBe('NOT_FOUND');
    const order = await placeOrder(db.deps, user, { ...payWith(key), lines });
    expect(order.lines.map((l) => [l.productId, l.quantity])).toEqual([
      [P2, 4],
      [P1, 1],
    ]);
    // A retry gets the same order without asking the catalog again, even in a different line order.
    const callsBefore = db.catalog.calls;
    expect((await placeOrder(db.deps, user, { ...payWith(key), lines: [...lines].reverse() })).id).toBe(order.id);
    expect(db.catalog.calls).toBe(callsBefore);
    expect((await rejection(placeOrder(db.deps, user, { ...payWith(key), lines: [{ productId: P2, quantity: 5 }] }))).code).toBe(
      'CONFLICT',
    );
  });
});

describe('the saga-facing commands', () => {
  async function placed(userId = `saga-${randomUUID()}`) {
    await fillCart(userId, [P1, 2], [P2, 1]);
    return checkout(db.deps, customer(userId), payWith(randomUUID()));
  }
  const pricedLines = [
    { productId: P1, quantity: 2, unitPrice: usd(1500) },
    { productId: P2, quantity: 1, unitPrice: usd(999) },
  ];

  it('prices, confirms, ships and delivers, each once, with one event per status change', async () => {
    const order = await placed();
    const reserved = await markStockReserved(db.deps, { orderId: order.id, pricedLines, total: usd(3999) });
    expect(reserved.pricing).toEqual({ currency: 'USD', subtotalCents: 3999, totalCents: 3999 });
    expect((await markStockReserved(db.deps, { orderId: order.id, pricedLines, total: usd(3999) })).version).toBe(
      reserved.version,
    );

    const confirmed = await confirmPayment(db.deps, {
      orderId: order.id,
      paymentId: 'pay_1',
      cause: { id: randomUUID(), correlationId: 'saga-1' },
    });
    expect(confirmed.status).toBe('CONFIRMED');
    expect((await confirmPayment(db.deps, { orderId: order.id, paymentId: 'pay_1' })).version).toBe(confirmed.version);
    expect((await rejection(confirmPayment(db.deps, { orderId: order.id, paymentId: 'pay_2' }))).code).toBe('CONFLICT');

    expect((await rejection(shipOrder(db.deps, customer(order.userId), { orderId: order.id }))).code).toBe('FORBIDDEN');
    await shipOrder(db.deps, admin(), { orderId: order.id });
    expect((await rejection(shipOrder(db.deps, admin(), { orderId: order.id }))).code).toBe('CONFLICT');
    expect((await rejection(cancelOrderAsViewer(db.deps, customer(order.userId), { orderId: order.id }))).code).toBe('CONFLICT');
    const delivered = await deliverOrder(db.deps, admin(), { orderId: order.id });

    expect(delivered.history.map((c) => [c.from, c.to, c.actor.type])).toEqual([
      [null, 'PENDING', 'CUSTOMER'],
      ['PENDING', 'CONFIRMED', 'SYSTEM'],
      ['CONFIRMED', 'SHIPPED', 'ADMIN'],
      ['SHIPPED', 'DELIVERED', 'ADMIN'],
    ]);
    const stored = await viewOrder(db.deps, customer(order.userId), order.id);
    expect(stored.history).toEqual(delivered.history);
    expect(stored.lines.map((l) => l.unitPriceCents)).toEqual([1500, 999]);
    const events = await outboxOf(order.id);
    expect(events.map((e) => e.type)).toEqual(['OrderPlaced', 'OrderConfirmed', 'OrderShipped', 'OrderDelivered']);
    expect(events[1]!.envelope).toMatchObject({ correlationId: 'saga-1', payload: { paymentId: 'pay_1', total: usd(3999) } });
  });

  it('cancels once (a repeated cancel changes nothing) and says whether a payment was captured', async () => {
    const pending = await placed();
    const cancelled = await cancelOrder(db.deps, { orderId: pending.id, reason: 'Out of stock', actor: systemActor('catalog') });
    expect(cancelled.status).toBe('CANCELLED');
    expect(
      (await cancelOrder(db.deps, { orderId: pending.id, reason: 'again', actor: systemActor('catalog') })).history,
    ).toHaveLength(2);
    expect((await rejection(confirmPayment(db.deps, { orderId: pending.id, paymentId: 'pay_late' }))).code).toBe('CONFLICT');

    const confirmed = await placed();
    await confirmPayment(db.deps, { orderId: confirmed.id, paymentId: 'pay_9' });
    await cancelOrderAsViewer(db.deps, customer(confirmed.userId), { orderId: confirmed.id, reason: 'Changed my mind' });
    const [pendingCancel, confirmedCancel] = [(await outboxOf(pending.id)).at(-1)!, (await outboxOf(confirmed.id)).at(-1)!];
    expect(pendingCancel.envelope).toMatchObject({
      type: 'OrderCancelled',
      payload: { wasConfirmed: false, reason: 'Out of stock' },
    });
    expect(confirmedCancel.envelope).toMatchObject({
      type: 'OrderCancelled',
      payload: { wasConfirmed: true, paymentId: 'pay_9', actor: { type: 'CUSTOMER', id: confirmed.userId } },
    });
    expect(await outboxOf(pending.id)).toHaveLength(2);
  });

  it('reports unknown or malformed order ids as NOT_FOUND', async () => {
    expect((await rejection(confirmPayment(db.deps, { orderId: randomUUID(), paymentId: 'p' }))).code).toBe('NOT_FOUND');
    expect((await rejection(markStockReserved(db.deps, { orderId: 'not-a-uuid', pricedLines, total: usd(1) }))).code).toBe(
      'NOT_FOUND',
    );
  });
});

describe('card numbers in the cancel reason', () => {
  it('refuses a reason holding a card number: nothing stored, nothing published', async () => {
    const user = customer(`card-reason-${randomUUID()}`);
    await fillCart(user.userId, [P1, 1]);
    const order = await checkout(db.deps, user, payWith(randomUUID()));
    const refused = await rejection(
      cancelOrderAsViewer(db.deps, user, { orderId: order.id, reason: 'refund to 4111 1111 1111 1111' }),
    );
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect(refused.message).not.toContain('4111');
    expect((await viewOrder(db.deps, user, order.id)).status).toBe('PENDING');
    const events = await outboxOf(order.id);
    expect(events.map((event) => event.type)).not.toContain('OrderCancelled');
    expect(JSON.stringify(events.map((event) => event.envelope))).not.toContain('4111');
    // Order numbers and phone numbers are fine.
    const cancelled = await cancelOrderAsViewer(db.deps, user, {
      orderId: order.id,
      reason: 'ORD-001042 dup, call +1 415 555 0100',
    });
    expect(cancelled.status).toBe('CANCELLED');
  });
});

describe('who sees which orders', () => {
  it('lets owners and admins read and cancel an order; anyone else gets NOT_FOUND, as for a missing order', async () => {
    const [a, b] = [customer(`owner-${randomUUID()}`), customer(`stranger-${randomUUID()}`)];
    await fillCart(a.userId, [P1, 1]);
    const order = await checkout(db.deps, a, payWith(randomUUID()));
    expect((await viewOrder(db.deps, a, order.id)).id).toBe(order.id);
    expect((await viewOrder(db.deps, admin(), order.id)).id).toBe(order.id);
    const stranger = await rejection(viewOrder(db.deps, b, order.id));
    const missing = await rejection(viewOrder(db.deps, b, randomUUID()));
    expect(stranger).toEqual(missing);
    expect(stranger.code).toBe('NOT_FOUND');
    expect(await rejection(cancelOrderAsViewer(db.deps, b, { orderId: order.id }))).toEqual(missing);
    expect((await viewOrder(db.deps, a, order.id)).status).toBe('PENDING');
    expect((await cancelOrderAsViewer(db.deps, admin(), { orderId: order.id, reason: 'fraud check' })).status).toBe('CANCELLED');
  });

  it('lists a user’s orders newest first, by status, page by page; only for themselves and admins', async () => {
    const user = customer(`lister-${randomUUID()}`);
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      db.clock.advance(1000);
      await fillCart(user.userId, [P1, index + 1]);
      ids.push((await checkout(db.deps, user, payWith(randomUUID()))).id);
    }
    await cancelOrderAsViewer(db.deps, user, { orderId: ids[1]! });
    const firstPage = await listUserOrders(db.deps, user, user.userId, { first: 2 });
    const secondPage = await listUserOrders(db.deps, user, user.userId, { first: 2, after: firstPage.pageInfo.endCursor });
    const lastPage = await listUserOrders(db.deps, user, user.userId, { first: 2, after: secondPage.pageInfo.endCursor });
    expect([...firstPage.nodes, ...secondPage.nodes, ...lastPage.nodes].map((o) => o.id)).toEqual([...ids].reverse());
    expect([firstPage.pageInfo.hasNextPage, lastPage.pageInfo.hasNextPage]).toEqual([true, false]);
    expect(await firstPage.totalCount()).toBe(5);
    const cancelled = await listUserOrders(db.deps, user, user.userId, { status: 'CANCELLED' });
    expect(cancelled.nodes.map((o) => o.id)).toEqual([ids[1]]);
    expect((await rejection(listUserOrders(db.deps, customer('someone-else'), user.userId, {}))).code).toBe('FORBIDDEN');
    expect((await listUserOrders(db.deps, admin(), user.userId, { first: 1 })).nodes[0]!.id).toBe(ids[4]);
    expect(await rejection(listUserOrders(db.deps, user, user.userId, { first: 101 }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'first',
    });
    expect(await rejection(listUserOrders(db.deps, user, user.userId, { after: 'garbage' }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'after',
    });
  });

  it('lets only admins list every order', async () => {
    expect((await rejection(listAllOrders(db.deps, customer('c'), {}))).code).toBe('FORBIDDEN');
    const cancelled = await listAllOrders(db.deps, admin(), { filter: { status: 'CANCELLED' }, first: 100 });
    expect(cancelled.nodes.length).toBeGreaterThan(0);
    expect(cancelled.nodes.every((o) => o.status === 'CANCELLED')).toBe(true);
  });
});
