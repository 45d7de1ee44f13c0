import { jest } from '@jest/globals';
import { createTestDatabase, describeWithServers, type TestDatabase } from '@commerce/testkit';
import { appendToOutbox, createEvent, KafkaEventBus, OutboxRelay, processOnce, type EventEnvelope } from '../src/index.ts';
import { closedPort, eventuallyOnKafka as eventually, testBrokers, uniqueName } from './support/kafka.ts';
import { openTestDatabase, type TestDatabaseHandle, type TestPrisma } from './support/test-database.ts';

const stockChanged = (productId: string, n: number) => createEvent('StockChanged', { productId, available: n, reason: 'TEST' });
const available = (event: EventEnvelope) => (event.payload as { available: number }).available;

/** Appends `perKey` events for each key, in one transaction per round, interleaving keys. */
async function appendRounds(
  prisma: TestPrisma,
  topic: string,
  keys: string[],
  rounds: number,
  from = 1,
): Promise<EventEnvelope[]> {
  const all: EventEnvelope[] = [];
  for (let round = 0; round < rounds; round++) {
    const events = keys.map((key) => stockChanged(key, from + round));
    await prisma.$transaction((tx) => appendToOutbox(tx, topic, events));
    all.push(...events);
  }
  return all;
}

/** Collects what a consumer group receives, per key. */
async function consume(bus: KafkaEventBus, topic: string) {
  const received: EventEnvelope[] = [];
  await bus.subscribe({ groupId: uniqueName('observer'), topics: [topic], handler: async (event) => void received.push(event) });
  return {
    received,
    perKey(key: string) {
      return received.filter((event) => event.aggregateId === key).map(available);
    },
  };
}

interface Row {
  published: boolean;
  attempts: number;
  lastError: string | null;
}

describeWithServers(['TEST_KAFKA_BROKERS', 'TEST_DATABASE_URL'], 'outbox relay on PostgreSQL and Kafka', () => {
  jest.setTimeout(120_000);
  let database: TestDatabase;
  let db: TestDatabaseHandle;
  const buses: KafkaEventBus[] = [];
  const relays: OutboxRelay[] = [];
  const newBus = (brokers = testBrokers()) => {
    const bus = new KafkaEventBus({
      brokers,
      clientId: 'relay-int-test',
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
      connectionTimeoutMs: 500,
      producerRetries: 2,
    });
    buses.push(bus);
    return bus;
  };
  const rows = () =>
    db.prisma.$queryRawUnsafe<Row[]>(
      `SELECT published_at IS NOT NULL AS published, attempts, last_error AS "lastError" FROM outbox_events ORDER BY sequence`,
    );

  beforeAll(async () => {
    database = await createTestDatabase('events_relay');
    db = await openTestDatabase({ kind: 'postgres', url: database.url });
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });
  beforeEach(() => db.prisma.$executeRawUnsafe('TRUNCATE outbox_events, processed_events, test_effects'));
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  it('waits while the broker is unreachable, then publishes everything, in order per aggregate, once', async () => {
    const topic = uniqueName('relay-outage');
    const keys = ['order-1', 'order-2', 'order-3', 'order-4'];
    const before = await appendRounds(db.prisma, topic, keys, 5);

    // The broker is down: a relay pointed at a port where nothing listens.
    const down = new OutboxRelay(db.prisma, {
      publisher: newBus([`127.0.0.1:${await closedPort()}`]),
      backoff: { baseDelayMs: 50, maxDelayMs: 200 },
    });
    relays.push(down.start());
    await eventually(async () => {
      const state = await rows();
      expect(state.every((row) => !row.published && row.attempts >= 2 && row.lastError !== null)).toBe(true);
    });
    expect(await down.backlog()).toMatchObject({ size: before.length });
    expect((await down.backlog()).oldestAgeSeconds).toBeGreaterThan(0);
    await down.stop();

    // Checkouts keep writing while the broker is away.
    const during = await appendRounds(db.prisma, topic, keys, 5, 6);

    // The broker is back (a relay restarted against it).
    const bus = newBus();
    await bus.ensureTopics([topic]);
    const observer = await consume(bus, topic);
    const up = new OutboxRelay(db.prisma, { publisher: bus, batchSize: 7 });
    relays.push(up.start());
    await eventually(() => expect(observer.received).toHaveLength(before.length + during.length));
    for (const key of keys) expect(observer.perKey(key)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(observer.received.map((event) => event.id)).size).toBe(before.length + during.length);
    // A batch reaches consumers just before the relay records it as published: wait for the record.
    await eventually(async () => {
      const state = await rows();
      expect(state.every((row) => row.published && row.lastError === null)).toBe(true);
    });
    expect(await up.backlog()).toEqual({ size: 0, oldestAgeSeconds: 0 });
  });

  it('two relays on one outbox publish every row exactly once, keeping per-aggregate order', async () => {
    const topic = uniqueName('relay-pair');
    const bus = newBus();
    await bus.ensureTopics([topic]);
    const observer = await consume(bus, topic);
    const keys = Array.from({ length: 8 }, (_, i) => `order-${i}`);
    const second = await db.connect(); // its own connection pool, like a second process
    const published = [0, 0];
    for (const [i, prisma] of [db.prisma, second].entries()) {
      relays.push(
        new OutboxRelay(prisma, {
          publisher: bus,
          batchSize: 15,
          pollIntervalMs: 5,
          onPublished: (n) => (published[i]! += n),
        }).start(),
      );
    }
    // Rows keep arriving while both relays run.
    const events = [];
    for (let burst = 0; burst < 10; burst++) events.push(...(await appendRounds(db.prisma, topic, keys, 5, burst * 5 + 1)));

    await eventually(() => expect(observer.received.length).toBeGreaterThanOrEqual(events.length));
    await new Promise((resolve) => setTimeout(resolve, 500)); // a duplicate would arrive by now
    expect(observer.received).toHaveLength(events.length);
    expect(new Set(observer.received.map((event) => event.id)).size).toBe(events.length);
    for (const key of keys) expect(observer.perKey(key)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await rows()).every((row) => row.published && row.attempts === 1)).toBe(true);
    expect(published[0]! + published[1]!).toBe(events.length);
    expect(published.every((n) => n > 0)).toBe(true); // both really took part
  });

  it('the inbox lets exactly one of many concurrent deliveries of an event apply it', async () => {
    const event = stockChanged('p1', 1);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        processOnce(db.prisma, 'concurrent', event, async (tx) => {
          await tx.$executeRawUnsafe(`INSERT INTO test_effects (consumer, event_id) VALUES ('concurrent', $1::uuid)`, event.id);
          await tx.$executeRawUnsafe('SELECT pg_sleep(0.05)'); // hold the transaction open so the others queue behind it
        }),
      ),
    );
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const effects = await db.prisma.$queryRawUnsafe<{ count: number }[]>('SELECT count(*)::int AS count FROM test_effects');
    expect(effects).toEqual([{ count: 1 }]);
  });
});
