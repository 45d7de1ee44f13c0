/**
 * Orders guarantees on real PostgreSQL, through the real Prisma adapters: concurrent duplicate checkouts,
 * idempotency conflicts, the outbox row existing if and only if the order commits, and one user never
 * reading or cancelling another's order.
 */
import { randomUUID } from 'node:crypto';
import { createTestDatabase, describeWithServers, type TestDatabase } from '@commerce/testkit';
import { addToCart } from '../src/application/add-to-cart.ts';
import { cancelOrderAsViewer } from '../src/application/cancel-order.ts';
import { listUserOrders } from '../src/application/list-orders.ts';
import { viewOrder } from '../src/application/order-access.ts';
import { checkout } from '../src/application/checkout.ts';
import { clearCart } from '../src/application/clear-cart.ts';
import { placeOrder } from '../src/application/place-order.ts';
import { viewCart } from '../src/application/view-cart.ts';
import { cancel, systemActor } from '../src/domain/order.ts';
import type { OrdersTransaction, UnitOfWork } from '../src/ports/unit-of-work.ts';
import { admin, customer, openOrdersTestDatabase, rejection, type OrdersTestDatabase } from './orders-test-kit.ts';

describeWithServers(['TEST_DATABASE_URL'], 'orders on real PostgreSQL', () => {
  let database: TestDatabase;
  let db: OrdersTestDatabase;
  const P1 = randomUUID();
  const P2 = randomUUID();
  const payWith = (idempotencyKey: string) => ({ paymentMethodId: 'pm_visa', shippingAddressId: 'addr-home', idempotencyKey });

  beforeAll(async () => {
    database = await createTestDatabase('orders_int');
    db = await openOrdersTestDatabase(database.url);
    db.catalog.available.add(P1).add(P2);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  async function fillCart(userId: string, ...lines: [string, number][]) {
    await clearCart(db.deps, customer(userId));
    for (const [productId, quantity] of lines) await addToCart(db.deps, customer(userId), { productId, quantity });
  }

  const ordersOf = (userId: string) => db.prisma.order.findMany({ where: { userId } });
  const outboxOf = (orderIds: string[]) => db.prisma.outboxEvent.findMany({ where: { aggregateId: { in: orderIds } } });

  it('20 concurrent checkouts with one idempotency key make exactly one order', async () => {
    const user = customer(`concurrent-${randomUUID()}`);
    const key = randomUUID();
    await fillCart(user.userId, [P1, 2], [P2, 1]);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => checkout(db.deps, user, payWith(key))));

    const orders = await ordersOf(user.userId);
    expect(orders).toHaveLength(1);
    const [order] = orders;
    // Every answer is the one order, or (while it was in flight) a CONFLICT; never anything else.
    for (const result of results) {
      if (result.status === 'fulfilled') expect(result.value.id).toBe(order!.id);
      else expect((result.reason as { code?: string }).code).toBe('CONFLICT');
    }
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    expect((await outboxOf([order!.id])).map((e) => e.type)).toEqual(['OrderPlaced']);
    expect((await viewCart(db.deps, user)).lines).toEqual([]);
    expect(await db.prisma.idempotencyKey.findMany({ where: { userId: user.userId } })).toMatchObject([
      { key, status: 'COMPLETED', orderId: order!.id },
    ]);
  });

  it('20 concurrent placeOrder calls with one key make exactly one order', async () => {
    const user = customer(`concurrent-mobile-${randomUUID()}`);
    const key = randomUUID();
    const input = { ...payWith(key), lines: [{ productId: P1, quantity: 3 }] };
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => placeOrder(db.deps, user, input)));
    const orders = await ordersOf(user.userId);
    expect(orders).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'fulfilled') expect(result.value.id).toBe(orders[0]!.id);
      else expect((result.reason as { code?: string }).code).toBe('CONFLICT');
    }
    expect(await outboxOf([orders[0]!.id])).toHaveLength(1);
  });

  it('20 concurrent checkouts of one cart with different keys order it once', async () => {
    const user = customer(`double-submit-${randomUUID()}`);
    await fillCart(user.userId, [P2, 5]);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => checkout(db.deps, user, payWith(randomUUID()))));
    expect(await ordersOf(user.userId)).toHaveLength(1);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(19);
    for (const result of refused) expect(result.reason).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'cart' } });
  });

  it('the same key with a different cart is a CONFLICT and changes nothing', async () => {
    const user = customer(`different-cart-${randomUUID()}`);
    const key = randomUUID();
    await fillCart(user.userId, [P1, 1]);
    const first = await checkout(db.deps, user, payWith(key));
    await fillCart(user.userId, [P1, 1], [P2, 1]);
    expect(await rejection(checkout(db.deps, user, payWith(key)))).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    expect((await ordersOf(user.userId)).map((o) => o.id)).toEqual([first.id]);
    expect((await viewCart(db.deps, user)).lines).toHaveLength(2);
    expect(await outboxOf([first.id])).toHaveLength(1);
  });

  /** The real unit of work, with one port of the transaction failing after the order was inserted. */
  function failingAfterInsert(step: 'carts.save' | 'idempotency.complete'): UnitOfWork {
    const injected = async () => {
      throw new Error(`injected failure in ${step}`);
    };
    return {
      run: (work) =>
        db.deps.unitOfWork.run((tx) => {
          const broken: OrdersTransaction = {
            ...tx,
            carts: {
              find: (u) => tx.carts.find(u),
              lock: (u) => tx.carts.lock(u),
              save: step === 'carts.save' ? injected : (c) => tx.carts.save(c),
            },
            idempotency: {
              claim: (record, now) => tx.idempotency.claim(record, now),
              find: (u, k) => tx.idempotency.find(u, k),
              complete: step === 'idempotency.complete' ? injected : (u, k, f, o) => tx.idempotency.complete(u, k, f, o),
            },
          };
          return work(broken);
        }),
    };
  }

  it.each(['carts.save', 'idempotency.complete'] as const)(
    'writes the order and its outbox row together or not at all (failure in %s after the insert)',
    async (step) => {
      const user = customer(`atomic-${randomUUID()}`);
      const key = randomUUID();
      await fillCart(user.userId, [P1, 4]);
      const outboxBefore = await db.prisma.outboxEvent.count();

      const failure = await rejection(checkout({ ...db.deps, unitOfWork: failingAfterInsert(step) }, user, payWith(key)));
      expect(failure.message).toBe(`injected failure in ${step}`);
      expect(await ordersOf(user.userId)).toEqual([]);
      expect(await db.prisma.outboxEvent.count()).toBe(outboxBefore);
      expect(await db.prisma.idempotencyKey.count({ where: { userId: user.userId } })).toBe(0);
      expect((await viewCart(db.deps, user)).lines).toHaveLength(1);

      // And when nothing fails, both exist: the same request now commits the order with its one event.
      const order = await checkout(db.deps, user, payWith(key));
      expect(await ordersOf(user.userId)).toHaveLength(1);
      expect((await outboxOf([order.id])).map((e) => e.type)).toEqual(['OrderPlaced']);
      expect(await db.prisma.outboxEvent.count()).toBe(outboxBefore + 1);
    },
  );

  it('an order locked while another transaction changes it is read as that transaction left it', async () => {
    const user = customer(`contended-${randomUUID()}`);
    await fillCart(user.userId, [P1, 2]);
    const placed = await checkout(db.deps, user, payWith(randomUUID()));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let changed!: () => void;
    const isChanged = new Promise<void>((resolve) => (changed = resolve));
    const first = db.deps.unitOfWork.run(async (tx) => {
      const current = (await tx.orders.lock(placed.id))!;
      const { order, change } = cancel(current, { reason: 'first', actor: systemActor('test'), at: new Date() });
      await tx.orders.update(order, current.version, [change!]);
      changed();
      await held;
    });
    await isChanged;
    const second = db.deps.unitOfWork.run((tx) => tx.orders.lock(placed.id));
    // The second lock's statement is waiting (its snapshot predates the first transaction's commit).
    await waitFor(async () => {
      const [row] = await db.prisma.$queryRaw<{ waiting: number }[]>`
        SELECT count(*)::int AS waiting FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%snapshotVersion%'`;
      return row!.waiting === 1;
    });
    release();
    await first;
    const seen = (await second)!;
    expect(seen.status).toBe('CANCELLED');
    expect(seen.version).toBe(placed.version + 1);
    expect(seen.history.map((entry) => [entry.to, entry.reason])).toEqual([
      ['PENDING', 'Order placed'],
      ['CANCELLED', 'first'],
    ]);
  });

  it('user B can neither read nor cancel user A’s order, and cannot tell it exists', async () => {
    const [a, b] = [customer(`owner-${randomUUID()}`), customer(`other-${randomUUID()}`)];
    await fillCart(a.userId, [P1, 1]);
    const order = await checkout(db.deps, a, payWith(randomUUID()));

    const asStranger = await rejection(viewOrder(db.deps, b, order.id));
    const missing = await rejection(viewOrder(db.deps, b, randomUUID()));
    expect(asStranger.code).toBe('NOT_FOUND');
    expect(asStranger).toEqual(missing);
    expect(await rejection(cancelOrderAsViewer(db.deps, b, { orderId: order.id, reason: 'not mine' }))).toEqual(missing);
    expect((await rejection(listUserOrders(db.deps, b, a.userId, {}))).code).toBe('FORBIDDEN');
    expect((await listUserOrders(db.deps, b, b.userId, {})).nodes).toEqual([]);

    const stored = await viewOrder(db.deps, a, order.id);
    expect(stored.status).toBe('PENDING');
    expect(stored.history).toHaveLength(1);
    expect(await outboxOf([order.id])).toHaveLength(1); // B's attempt announced nothing
    expect((await viewOrder(db.deps, admin(), order.id)).id).toBe(order.id);
    expect((await cancelOrderAsViewer(db.deps, a, { orderId: order.id, reason: 'changed my mind' })).status).toBe('CANCELLED');
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
