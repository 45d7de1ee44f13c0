/**
 * The saga metrics of orders on the real schema (PGlite): outcomes are counted once per order leaving
 * PENDING, after the commit, with a bounded reason; the oldest PENDING order's age comes from the database.
 */
import { randomUUID } from 'node:crypto';
import { Registry } from '@commerce/platform';
import { cancelOrder, cancelOrderAsViewer } from '../src/application/cancel-order.ts';
import { confirmPayment } from '../src/application/confirm-payment.ts';
import { placeOrder } from '../src/application/place-order.ts';
import { systemActor, type StatusChange } from '../src/domain/order.ts';
import { registerPendingOrderAge, sagaOutcomeOf, SagaOutcomeMetrics } from '../src/adapters/metrics/orders-metrics.ts';
import type { OrdersDependencies } from '../src/ports/orders-dependencies.ts';
import { admin, customer, openOrdersTestDatabase, type OrdersTestDatabase } from './orders-test-kit.ts';

let db: OrdersTestDatabase;
const PRODUCT = randomUUID();

beforeAll(async () => {
  db = await openOrdersTestDatabase('pglite:memory');
  db.catalog.available.add(PRODUCT);
}, 120_000);
afterAll(() => db?.close());

const change = (from: StatusChange['from'], to: StatusChange['to'], actor: StatusChange['actor']): StatusChange => ({
  from,
  to,
  reason: 'free text that never becomes a label',
  actor,
  at: new Date(),
});

describe('sagaOutcomeOf', () => {
  test.each([
    [
      'confirmed: payment_captured',
      change('PENDING', 'CONFIRMED', systemActor('billing')),
      { outcome: 'confirmed', reason: 'payment_captured' },
    ],
    [
      'cancelled: stock_rejected',
      change('PENDING', 'CANCELLED', systemActor('catalog')),
      { outcome: 'cancelled', reason: 'stock_rejected' },
    ],
    [
      'cancelled: payment_failed',
      change('PENDING', 'CANCELLED', systemActor('billing')),
      { outcome: 'cancelled', reason: 'payment_failed' },
    ],
    [
      'cancelled: pending_timeout',
      change('PENDING', 'CANCELLED', systemActor('orders')),
      { outcome: 'cancelled', reason: 'pending_timeout' },
    ],
    [
      'cancelled: customer_cancelled',
      change('PENDING', 'CANCELLED', { type: 'CUSTOMER', id: 'u1' }),
      { outcome: 'cancelled', reason: 'customer_cancelled' },
    ],
    [
      'cancelled: admin_cancelled',
      change('PENDING', 'CANCELLED', { type: 'ADMIN', id: 'a1' }),
      { outcome: 'cancelled', reason: 'admin_cancelled' },
    ],
    ['cancelled: other', change('PENDING', 'CANCELLED', systemActor('somebody-new')), { outcome: 'cancelled', reason: 'other' }],
  ])('%s', (_name, statusChange, expected) => {
    expect(sagaOutcomeOf(statusChange)).toEqual(expected);
  });

  test('changes that are not an order leaving PENDING are no outcome', () => {
    expect(sagaOutcomeOf(change(null, 'PENDING', { type: 'CUSTOMER', id: 'u1' }))).toBeUndefined();
    expect(sagaOutcomeOf(change('CONFIRMED', 'CANCELLED', { type: 'CUSTOMER', id: 'u1' }))).toBeUndefined();
    expect(sagaOutcomeOf(change('CONFIRMED', 'SHIPPED', { type: 'ADMIN', id: 'a1' }))).toBeUndefined();
  });
});

describe('saga outcome counter', () => {
  let registry: Registry;
  let deps: OrdersDependencies;
  beforeEach(() => {
    registry = new Registry();
    deps = { ...db.deps, unitOfWork: new SagaOutcomeMetrics(registry).counting(db.deps.unitOfWork) };
  });
  const count = async (outcome: string, reason: string) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === 'orders_saga_outcomes_total');
    return metric?.values.find((v) => v.labels.outcome === outcome && v.labels.reason === reason)?.value ?? 0;
  };
  const place = (userId: string) =>
    placeOrder(deps, customer(userId), {
      lines: [{ productId: PRODUCT, quantity: 1 }],
      paymentMethodId: 'pm_visa',
      shippingAddressId: 'addr-home',
      idempotencyKey: randomUUID(),
    });

  test('counts a confirmation once, however often it is repeated, and not the later cancellation', async () => {
    const order = await place(`u-${randomUUID()}`);
    await confirmPayment(deps, { orderId: order.id, paymentId: 'pay_1' });
    await confirmPayment(deps, { orderId: order.id, paymentId: 'pay_1' }); // a redelivery: nothing changes
    expect(await count('confirmed', 'payment_captured')).toBe(1);
    await cancelOrderAsViewer(deps, admin(), { orderId: order.id, reason: 'refund' });
    expect(await count('cancelled', 'admin_cancelled')).toBe(0);
  });

  test('counts cancellations of PENDING orders by who cancelled them', async () => {
    const userId = `u-${randomUUID()}`;
    const mine = await place(userId);
    await cancelOrderAsViewer(deps, customer(userId), { orderId: mine.id });
    const rejected = await place(userId);
    await cancelOrder(deps, { orderId: rejected.id, reason: 'Stock unavailable', actor: systemActor('catalog') });
    expect(await count('cancelled', 'customer_cancelled')).toBe(1);
    expect(await count('cancelled', 'stock_rejected')).toBe(1);
    expect(await count('confirmed', 'payment_captured')).toBe(0);
  });

  test('counts nothing when the transaction rolls back', async () => {
    const order = await place(`u-${randomUUID()}`);
    await expect(
      deps.unitOfWork.run(async (tx) => {
        const current = (await tx.orders.lock(order.id))!;
        const confirmed = { ...current, status: 'CONFIRMED' as const, version: current.version + 1 };
        await tx.orders.update(confirmed, current.version, [change('PENDING', 'CONFIRMED', systemActor('billing'))]);
        throw new Error('something after the update failed');
      }),
    ).rejects.toThrow('something after the update failed');
    expect(await count('confirmed', 'payment_captured')).toBe(0);
    expect((await db.prisma.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe('PENDING');
    await cancelOrder(deps, { orderId: order.id, reason: null, actor: systemActor('orders') });
  });
});

describe('oldest PENDING order gauge', () => {
  test('is the age of the oldest PENDING order on the clock, and 0 once none is left', async () => {
    const registry = new Registry();
    registerPendingOrderAge(registry, db.prisma, db.clock, { cacheMs: 0 });
    const age = async () =>
      (await registry.getMetricsAsJSON()).find((m) => m.name === 'orders_pending_oldest_age_seconds')!.values[0]!.value;
    // Whatever earlier tests left PENDING is settled first.
    for (const { id } of await db.prisma.order.findMany({ where: { status: 'PENDING' }, select: { id: true } }))
      await cancelOrder(db.deps, { orderId: id, reason: null, actor: systemActor('orders') });
    expect(await age()).toBe(0);

    const userId = `u-${randomUUID()}`;
    const placeOne = () =>
      placeOrder(db.deps, customer(userId), {
        lines: [{ productId: PRODUCT, quantity: 1 }],
        paymentMethodId: 'pm_visa',
        shippingAddressId: 'addr-home',
        idempotencyKey: randomUUID(),
      });
    const older = await placeOne();
    db.clock.advance(30_000);
    const newer = await placeOne();
    db.clock.advance(60_000);
    expect(await age()).toBeCloseTo(90, 0);

    await confirmPayment(db.deps, { orderId: older.id, paymentId: 'pay_2' });
    expect(await age()).toBeCloseTo(60, 0);
    await cancelOrder(db.deps, { orderId: newer.id, reason: null, actor: systemActor('catalog') });
    expect(await age()).toBe(0);
  });
});
