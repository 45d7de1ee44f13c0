/**
 * Every series docs/operations.md documents is on the /metrics of the services it names, and the saga
 * metrics move with real checkouts: embedded mode (PGlite, in-process bus), driven through the gateway.
 */
import { jest } from '@jest/globals';
import { startTestStack, type TestStack } from '@commerce/testkit';
import {
  cancelAsCustomer,
  newShopper,
  placeOrder,
  settled,
  stockedProducts,
  waitForOrder,
  insertUnannouncedOrder,
} from './saga-support.ts';
import {
  documentedMetrics,
  families,
  PRODUCERS,
  samples,
  scrape,
  scrapeUntil,
  valueOf,
  type Deployable,
} from './metrics-support.ts';

jest.setTimeout(90_000);

describe('service metrics (embedded)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // The sweeper must leave this test's stuck order alone.
    stack = await startTestStack({ seed: true, env: { ORDER_PENDING_TIMEOUT_MS: '3600000' } });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  test('the documentation lists the metrics of this change, each for the services that expose it', () => {
    const byName = new Map(documentedMetrics().map((metric) => [metric.name, metric.services]));
    expect(byName.get('events_consumer_lag_messages')).toEqual(['catalog', 'orders', 'billing', 'gateway']);
    expect(byName.get('events_dead_letter_queue_messages')).toEqual(['catalog', 'orders', 'billing', 'gateway']);
    expect(byName.get('orders_pending_oldest_age_seconds')).toEqual(['orders']);
    expect(byName.get('orders_saga_outcomes_total')).toEqual(['orders']);
    expect(byName.get('db_pool_waiting_requests')).toEqual(['catalog', 'users', 'orders', 'billing']);
    // Every service with an outbox reports it (billing built its relay by hand and had none of these).
    expect(PRODUCERS).toEqual(['catalog', 'users', 'orders', 'billing']);
    for (const name of ['outbox_backlog_events', 'outbox_published_total', 'outbox_publish_failures_total'])
      expect(byName.get(name)).toEqual(PRODUCERS);
  });

  test('every documented series is on the /metrics of every service that should expose it', async () => {
    const scrapes = new Map<Deployable, Set<string>>();
    const missing: string[] = [];
    for (const metric of documentedMetrics()) {
      for (const service of metric.services) {
        if (!scrapes.has(service)) scrapes.set(service, families(await scrape(stack, service)));
        const exposed = [...scrapes.get(service)!];
        const found = metric.prefix ? exposed.some((name) => name.startsWith(metric.name)) : exposed.includes(metric.name);
        if (!found) missing.push(`${service}: ${metric.name}${metric.prefix ? '*' : ''}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('a confirmed and a declined checkout each count once as saga outcomes; consumers end caught up', async () => {
    const before = await scrape(stack, 'orders');
    const confirmed = { outcome: 'confirmed', reason: 'payment_captured', service: 'orders' };
    const declined = { outcome: 'cancelled', reason: 'payment_failed', service: 'orders' };
    const [productId] = await stockedProducts(stack.query, 2);

    const buyer = await newShopper(stack.query, 'tok_visa');
    const good = await placeOrder(stack.query, buyer, [{ productId: productId!, quantity: 1 }]);
    expect((await waitForOrder(stack.query, buyer, good, settled)).status).toBe('CONFIRMED');
    const declinedBuyer = await newShopper(stack.query, 'tok_chargeDeclined');
    const bad = await placeOrder(stack.query, declinedBuyer, [{ productId: productId!, quantity: 1 }]);
    expect((await waitForOrder(stack.query, declinedBuyer, bad, settled)).status).toBe('CANCELLED');

    const after = await scrape(stack, 'orders');
    expect(valueOf(after, 'orders_saga_outcomes_total', confirmed)).toBe(
      valueOf(before, 'orders_saga_outcomes_total', confirmed) + 1,
    );
    expect(valueOf(after, 'orders_saga_outcomes_total', declined)).toBe(
      valueOf(before, 'orders_saga_outcomes_total', declined) + 1,
    );

    // Each saga group reports its topics on its own service's /metrics, and has nothing left to read.
    for (const [service, group] of [
      ['catalog', 'catalog.saga'],
      ['billing', 'billing.saga'],
      ['orders', 'orders.saga'],
    ] as const) {
      const text = await scrapeUntil(stack, service, (t) =>
        samples(t, 'events_consumer_lag_messages').every((sample) => sample.value === 0),
      );
      const lag = samples(text, 'events_consumer_lag_messages');
      expect(lag.length).toBeGreaterThan(0);
      expect(lag.map((sample) => sample.labels.group)).toEqual(lag.map(() => group));
      expect(lag.map((sample) => sample.value)).toEqual(lag.map(() => 0));
      expect(valueOf(text, 'events_dead_letter_queue_messages', { group })).toBe(0);
    }
    // The gateway's cache-purge group reads catalog.events too.
    const gateway = await scrapeUntil(stack, 'gateway', (t) =>
      samples(t, 'events_consumer_lag_messages').every((sample) => sample.value === 0),
    );
    expect(samples(gateway, 'events_consumer_lag_messages').map((sample) => [sample.labels.topic, sample.value])).toEqual([
      ['catalog.events', 0],
    ]);
    // PGlite has no pool, so db_pool_waiting_requests can only be 0 here (it is exposed, checked above);
    // its values are measured on PostgreSQL in packages/database/src/pool-metrics.int.test.ts (a pool of 2
    // under a burst).
  });

  test('a stuck PENDING order shows its age until it is cancelled, which counts as a customer cancellation', async () => {
    const { shopper, order: stuck } = await insertUnannouncedOrder(stack, 300_000);

    const age = (text: string) => valueOf(text, 'orders_pending_oldest_age_seconds', {});
    const stuckText = await scrapeUntil(stack, 'orders', (text) => age(text) >= 300);
    expect(age(stuckText)).toBeGreaterThanOrEqual(300);
    expect(age(stuckText)).toBeLessThan(3600);

    const customer = { outcome: 'cancelled', reason: 'customer_cancelled' };
    const before = valueOf(stuckText, 'orders_saga_outcomes_total', customer);
    await cancelAsCustomer(stack.query, shopper, stuck.id);
    const cancelledText = await scrapeUntil(stack, 'orders', (text) => age(text) < 300);
    expect(age(cancelledText)).toBeLessThan(300);
    expect(valueOf(cancelledText, 'orders_saga_outcomes_total', customer)).toBe(before + 1);
  });
});
