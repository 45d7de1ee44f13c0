import { DomainError } from '@commerce/platform/errors';
import { assertTransition, canTransition, isFinal, ORDER_STATUSES, type OrderStatus } from '../src/domain/order-status.ts';
import { cancel, confirmPayment, deliver, newOrder, ship, systemActor, type Actor, type Order } from '../src/domain/order.ts';
import { statusChanged } from '../src/domain/order-events.ts';
import { SAMPLE_SHIPPING_ADDRESS } from './support/shipping-address.ts';

const LEGAL: [OrderStatus, OrderStatus][] = [
  ['PENDING', 'CONFIRMED'],
  ['PENDING', 'CANCELLED'],
  ['CONFIRMED', 'SHIPPED'],
  ['CONFIRMED', 'CANCELLED'],
  ['SHIPPED', 'DELIVERED'],
];

const ALL_PAIRS = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.map((to) => [from, to] as [OrderStatus, OrderStatus]));
const ILLEGAL = ALL_PAIRS.filter(([from, to]) => !LEGAL.some(([f, t]) => f === from && t === to));

const customer: Actor = { type: 'CUSTOMER', id: 'user-a' };
const admin: Actor = { type: 'ADMIN', id: 'admin-1' };
const at = new Date('2026-03-01T10:00:00Z');

function orderIn(
  status: OrderStatus,
  paymentId: string | null = status === 'PENDING' || status === 'CANCELLED' ? null : 'pay-1',
): Order {
  const placed = newOrder({
    id: '6f1c2b8e-0d2a-4d6b-9a53-2b8f0e1c4a10',
    userId: 'user-a',
    lines: [{ productId: 'p-1', quantity: 2 }],
    paymentMethodId: 'pm-1',
    shippingAddressId: 'addr-1',
    shippingAddress: SAMPLE_SHIPPING_ADDRESS,
    actor: customer,
    at: new Date('2026-03-01T09:00:00Z'),
  });
  return { ...placed, number: 42, status, paymentId };
}

/** Drives an order to `to` through the domain operation for that target status. */
function apply(order: Order, to: OrderStatus) {
  const context = { reason: 'test', actor: admin, at };
  switch (to) {
    case 'CONFIRMED':
      return confirmPayment(order, 'pay-1', context);
    case 'CANCELLED':
      return cancel(order, context);
    case 'SHIPPED':
      return ship(order, context);
    case 'DELIVERED':
      return deliver(order, context);
    case 'PENDING':
      // No operation leads back to PENDING; the table itself must refuse it.
      assertTransition(order.status, to);
      throw new Error('unreachable: assertTransition accepted a change to PENDING');
  }
}

function expectConflict(run: () => unknown) {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DomainError);
  expect((caught as DomainError).code).toBe('CONFLICT');
}

describe('order state machine', () => {
  it('has exactly five legal transitions out of the 25 pairs', () => {
    expect(ALL_PAIRS.filter(([from, to]) => canTransition(from, to))).toEqual(LEGAL);
    expect(ILLEGAL).toHaveLength(20);
  });

  it.each(LEGAL)('allows %s → %s, records it in the history and announces it', (from, to) => {
    const before = orderIn(from);
    const { order, change } = apply(before, to);
    expect(order.status).toBe(to);
    expect(change).toEqual({ from, to, reason: 'test', actor: admin, at });
    expect(order.history.at(-1)).toEqual(change);
    expect(order.history).toHaveLength(before.history.length + 1);
    expect(order.version).toBe(before.version + 1);
    expect(order.updatedAt).toEqual(at);
    const event = statusChanged(order, change!);
    expect(event.aggregateId).toBe(order.id);
    expect(event.type).toBe(
      { CONFIRMED: 'OrderConfirmed', CANCELLED: 'OrderCancelled', SHIPPED: 'OrderShipped', DELIVERED: 'OrderDelivered' }[
        to as 'CONFIRMED'
      ],
    );
  });

  // A repeated confirm of the same payment or a repeated cancel is a redelivery: no change, no error.
  const idempotentRepeats: [OrderStatus, OrderStatus][] = [
    ['CONFIRMED', 'CONFIRMED'],
    ['SHIPPED', 'CONFIRMED'],
    ['DELIVERED', 'CONFIRMED'],
    ['CANCELLED', 'CANCELLED'],
  ];

  it.each(ILLEGAL.filter(([from, to]) => !idempotentRepeats.some(([f, t]) => f === from && t === to)))(
    'refuses %s → %s with CONFLICT and leaves the order as it was',
    (from, to) => {
      const before = orderIn(from);
      const snapshot = structuredClone(before);
      expect(canTransition(from, to)).toBe(false);
      expectConflict(() => assertTransition(from, to));
      expectConflict(() => apply(before, to));
      expect(before).toEqual(snapshot);
    },
  );

  it.each(idempotentRepeats)('treats %s → %s again as already done (no change, no history entry)', (from, to) => {
    const before = orderIn(from);
    const { order, change } = apply(before, to);
    expect(change).toBeNull();
    expect(order).toBe(before);
    // Still not a transition of the machine: only the redelivery shortcut makes it harmless.
    expect(canTransition(from, to)).toBe(false);
    expectConflict(() => assertTransition(from, to));
  });

  it('refuses to confirm with a different payment than the one captured', () => {
    expectConflict(() =>
      confirmPayment(orderIn('CONFIRMED', 'pay-1'), 'pay-2', { reason: null, actor: systemActor('billing'), at }),
    );
  });

  it('knows DELIVERED and CANCELLED as final', () => {
    expect(ORDER_STATUSES.filter(isFinal)).toEqual(['DELIVERED', 'CANCELLED']);
  });

  it('starts the history with the placement', () => {
    const order = orderIn('PENDING');
    expect(order.history).toEqual([{ from: null, to: 'PENDING', reason: 'Order placed', actor: customer, at: order.createdAt }]);
  });

  it('walks the happy path and keeps every step in order', () => {
    let order = orderIn('PENDING');
    for (const to of ['CONFIRMED', 'SHIPPED', 'DELIVERED'] as const) order = apply(order, to).order;
    expect(order.history.map((change) => [change.from, change.to])).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'CONFIRMED'],
      ['CONFIRMED', 'SHIPPED'],
      ['SHIPPED', 'DELIVERED'],
    ]);
    expect(order.paymentId).toBe('pay-1');
  });

  it('tells billing to refund when a confirmed order is cancelled, and not when a pending one is', () => {
    const fromConfirmed = apply(orderIn('CONFIRMED'), 'CANCELLED');
    const fromPending = apply(orderIn('PENDING'), 'CANCELLED');
    expect(statusChanged(fromConfirmed.order, fromConfirmed.change!).payload).toMatchObject({
      previousStatus: 'CONFIRMED',
      wasConfirmed: true,
      paymentId: 'pay-1',
    });
    expect(statusChanged(fromPending.order, fromPending.change!).payload).toMatchObject({
      previousStatus: 'PENDING',
      wasConfirmed: false,
      paymentId: null,
    });
  });
});
