/**
 * The services' saga and event metrics on real Kafka + PostgreSQL, scraped from their /metrics: saga
 * outcomes of real checkouts, the age of a stuck PENDING order, consumer lag of the prefixed groups
 * measured on the broker, and a poison message counted on its group's dead-letter queue.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import { KafkaProbe } from './kafka-probe.ts';
import {
  cancelAsCustomer,
  newShopper,
  placeOrder,
  settled,
  stockedProducts,
  waitForOrder,
  insertUnannouncedOrder,
} from './saga-support.ts';
import { documentedMetrics, families, samples, scrape, scrapeUntil, valueOf, type Deployable } from './metrics-support.ts';

jest.setTimeout(180_000);

describeWithServers(['TEST_KAFKA_BROKERS', 'TEST_DATABASE_URL'], 'service metrics (Kafka + PostgreSQL)', () => {
  const prefix = `metrics-${randomUUID().slice(0, 8)}.`;
  let stack: TestStack;
  let probe: KafkaProbe;
  beforeAll(async () => {
    stack = await startTestStack({
      database: 'postgres',
      seed: true,
      env: {
        KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!,
        KAFKA_TOPIC_PREFIX: prefix,
        ORDER_PENDING_TIMEOUT_MS: '3600000', // the sweeper must leave the stuck order alone
      },
    });
    probe = new KafkaProbe(process.env.TEST_KAFKA_BROKERS!, prefix);
  }, 240_000);
  afterAll(async () => {
    await probe?.close();
    await stack?.stop();
  });

  test('every documented series is on the /metrics of every service that should expose it', async () => {
    const missing: string[] = [];
    const scrapes = new Map<Deployable, Set<string>>();
    for (const metric of documentedMetrics('postgres')) {
      for (const service of metric.services) {
        if (!scrapes.has(service)) scrapes.set(service, families(await scrape(stack, service)));
        const exposed = [...scrapes.get(service)!];
        if (!(metric.prefix ? exposed.some((name) => name.startsWith(metric.name)) : exposed.includes(metric.name)))
          missing.push(`${service}: ${metric.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('a confirmed and a declined checkout count as saga outcomes; the groups end caught up on the broker', async () => {
    const confirmed = { outcome: 'confirmed', reason: 'payment_captured' };
    const declined = { outcome: 'cancelled', reason: 'payment_failed' };
    const before = await scrape(stack, 'orders');
    const [productId] = await stockedProducts(stack.query, 2);
    const buyer = await newShopper(stack.query, 'tok_visa');
    const good = await placeOrder(stack.query, buyer, [{ productId: productId!, quantity: 1 }]);
    expect((await waitForOrder(stack.query, buyer, good, settled, 60_000)).status).toBe('CONFIRMED');
    const declinedBuyer = await newShopper(stack.query, 'tok_chargeDeclined');
    const bad = await placeOrder(stack.query, declinedBuyer, [{ productId: productId!, quantity: 1 }]);
    expect((await waitForOrder(stack.query, declinedBuyer, bad, settled, 60_000)).status).toBe('CANCELLED');

    const after = await scrape(stack, 'orders');
    expect(valueOf(after, 'orders_saga_outcomes_total', confirmed)).toBe(
      valueOf(before, 'orders_saga_outcomes_total', confirmed) + 1,
    );
    expect(valueOf(after, 'orders_saga_outcomes_total', declined)).toBe(
      valueOf(before, 'orders_saga_outcomes_total', declined) + 1,
    );

    // Lag is measured on the broker, per partition, under the run's prefixed group and topic names.
    const text = await scrapeUntil(
      stack,
      'catalog',
      (t) => {
        const lag = samples(t, 'events_consumer_lag_messages');
        return lag.length > 0 && lag.every((sample) => sample.value === 0);
      },
      30_000,
    );
    const lag = samples(text, 'events_consumer_lag_messages');
    expect(new Set(lag.map((sample) => `${sample.labels.group} ${sample.labels.topic}`))).toEqual(
      new Set([`${prefix}catalog.saga ${prefix}orders.events`, `${prefix}catalog.saga ${prefix}billing.events`]),
    );
    expect(new Set(lag.map((sample) => sample.labels.partition)).size).toBeGreaterThan(1);
  });

  test('a poison message on orders.events shows on the dead-letter queues of the groups that read it', async () => {
    const partitions = await probe.partitions('orders.events');
    await probe.send('orders.events', [{ key: 'poison', value: '{not json', partition: partitions[0] }]);
    for (const service of ['catalog', 'billing'] as const) {
      const group = `${prefix}${service}.saga`;
      const text = await scrapeUntil(
        stack,
        service,
        (t) => valueOf(t, 'events_dead_letter_queue_messages', { group }) >= 1,
        60_000,
      );
      expect(valueOf(text, 'events_dead_letter_queue_messages', { group })).toBe(1);
      expect(valueOf(text, 'events_dead_lettered_total', { group, topic: `${prefix}orders.events` })).toBe(1);
    }
    // orders does not read orders.events: its queue stays empty.
    const orders = await scrape(stack, 'orders');
    expect(valueOf(orders, 'events_dead_letter_queue_messages', { group: `${prefix}orders.saga` })).toBe(0);
  });

  test('a stuck PENDING order shows its age on PostgreSQL until the customer cancels it', async () => {
    const { shopper, order: stuck } = await insertUnannouncedOrder(stack, 300_000);
    const age = (text: string) => valueOf(text, 'orders_pending_oldest_age_seconds', {});
    expect(age(await scrapeUntil(stack, 'orders', (text) => age(text) >= 300))).toBeGreaterThanOrEqual(300);

    await cancelAsCustomer(stack.query, shopper, stuck.id);
    expect(age(await scrapeUntil(stack, 'orders', (text) => age(text) < 300))).toBeLessThan(300);
    // A real pool: connections are open, and nothing waits for one at rest.
    const text = await scrape(stack, 'orders');
    expect(
      valueOf(text, 'db_pool_connections', { state: 'idle' }) + valueOf(text, 'db_pool_connections', { state: 'in_use' }),
    ).toBeGreaterThan(0);
    expect(valueOf(text, 'db_pool_waiting_requests', {})).toBe(0);
  });
});
