import { createLogger, createServiceMetrics } from '@commerce/platform';
import { appendEvents, createEvent, InProcessEventBus, TOPICS, type EventEnvelope } from '@commerce/events';
import { BackgroundStarts, createEventBus, loadServiceConfig, startOutboxRelay, type ServiceRuntime } from '../src/index.ts';
import { openTestDatabase, type TestDatabaseHandle } from '../../events/test/support/test-database.ts';
import { eventually } from '../../events/test/support/eventually.ts';

const silent = createLogger({ service: 'test', level: 'silent' });

describe('event wiring of a service runtime', () => {
  it('uses the in-process bus when KAFKA_BROKERS is not set', async () => {
    const config = loadServiceConfig('orders', { ORDERS_DATABASE_URL: 'pglite:memory' });
    const bus = await createEventBus(config, silent, createServiceMetrics('orders').registry);
    expect(bus).toBeInstanceOf(InProcessEventBus);
    await bus.close();
  });

  it('reads the event settings from the environment', () => {
    const config = loadServiceConfig('orders', {
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      OUTBOX_POLL_INTERVAL_MS: '50',
      EVENT_MAX_ATTEMPTS: '7',
      KAFKA_TOPIC_PARTITIONS: '6',
      KAFKA_KEY_CONCURRENCY: '16',
      KAFKA_FETCH_MAX_WAIT_MS: '100',
    });
    expect(config.kafkaBrokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.events).toEqual({
      outboxPollIntervalMs: 50,
      maxAttempts: 7,
      topicPartitions: 6,
      keyConcurrency: 16,
      fetchMaxWaitMs: 100,
    });
    expect(loadServiceConfig('orders', {}).events).toMatchObject({ keyConcurrency: 8, fetchMaxWaitMs: 500 });
    expect(() => loadServiceConfig('orders', { OUTBOX_POLL_INTERVAL_MS: '0' })).toThrow(/OUTBOX_POLL_INTERVAL_MS/);
    expect(() => loadServiceConfig('orders', { KAFKA_KEY_CONCURRENCY: '0' })).toThrow(/KAFKA_KEY_CONCURRENCY/);
  });

  describe('startOutboxRelay', () => {
    let db: TestDatabaseHandle;
    let runtime: ServiceRuntime;
    let bus: InProcessEventBus;
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      db = await openTestDatabase({ kind: 'pglite', dataDir: 'memory://' });
      bus = new InProcessEventBus();
      const config = loadServiceConfig('orders', { OUTBOX_POLL_INTERVAL_MS: '60000' });
      // A runtime as createServiceRuntime builds it, on the events package's test schema.
      runtime = {
        name: 'orders',
        config,
        env: {},
        logger: silent,
        metrics: createServiceMetrics('orders'),
        database: db.database,
        bus,
        authenticate: async () => null,
        jwt: undefined as never,
        accessKeys: undefined as never,
        starting: new BackgroundStarts(),
        relays: [],
        onClose: (cleanup) => void cleanups.push(cleanup),
        close: async () => {
          for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
        },
      };
    }, 120_000); // starting PGlite is slow on a busy machine
    afterAll(async () => {
      await runtime.close();
      await bus.close();
      await db.close();
    });

    it('publishes the outbox through the runtime bus, reports the backlog on /metrics and stops with the runtime', async () => {
      const received: EventEnvelope[] = [];
      await bus.subscribe({ groupId: 'observer', topics: [TOPICS.orders], handler: async (event) => void received.push(event) });
      const relay = startOutboxRelay(runtime, db.prisma);
      expect(runtime.relays).toEqual([relay]);

      // Poll interval is a minute: only notify() can make this quick.
      const placed = createEvent('OrderDelivered', { orderId: 'o-1' });
      await db.prisma.$transaction((tx) => appendEvents(tx, [placed]));
      relay.notify();
      await eventually(() => expect(received.map((event) => event.id)).toEqual([placed.id]));
      const metrics = await runtime.metrics.registry.metrics();
      expect(metrics).toMatch(/^outbox_published_total\{service="orders"\} 1$/m);
      expect(metrics).toMatch(/^outbox_backlog_events\{service="orders"\} 0$/m);

      await runtime.close();
      const late = createEvent('OrderDelivered', { orderId: 'o-2' });
      await db.prisma.$transaction((tx) => appendEvents(tx, [late]));
      relay.notify(); // stopped: nobody publishes it
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(received).toHaveLength(1);
      expect(await runtime.metrics.registry.metrics()).toMatch(/^outbox_backlog_events\{service="orders"\} 1$/m);
      expect(await runtime.metrics.registry.metrics()).toMatch(/^outbox_oldest_event_age_seconds\{service="orders"\} [\d.]+$/m);
    });
  });
});
