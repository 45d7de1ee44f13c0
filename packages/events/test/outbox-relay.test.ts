import { randomUUID } from 'node:crypto';
import {
  appendEvents,
  createEnvelope,
  createEvent,
  InProcessEventBus,
  OutboxRelay,
  processOnce,
  TOPICS,
  type EventEnvelope,
  type EventPublisher,
  type OutboxDatabase,
  type OutgoingMessage,
} from '../src/index.ts';
import { openTestDatabase, type TestDatabaseHandle, type TestPrisma } from './support/test-database.ts';
import { eventually } from './support/eventually.ts';

// Embedded mode's path end to end on PGlite: outbox → relay → in-process bus → consumer with inbox.

/** The publisher port with a switch: "down" behaves like an unreachable broker. */
class FlakyPublisher implements EventPublisher {
  down = false;
  calls = 0;
  constructor(private readonly inner: EventPublisher) {}
  async publish(messages: OutgoingMessage[]): Promise<void> {
    this.calls += 1;
    if (this.down) throw new Error('broker unreachable');
    await this.inner.publish(messages);
  }
}

const stockChanged = (productId: string, available: number) =>
  createEvent('StockChanged', { productId, available, reason: 'ADJUSTMENT' });

async function append(prisma: TestPrisma, events: EventEnvelope[]): Promise<void> {
  await prisma.$transaction((tx) => appendEvents(tx, events));
}

interface OutboxState {
  id: string;
  published: boolean;
  attempts: number;
  lastError: string | null;
}
const outbox = (prisma: TestPrisma) =>
  prisma.$queryRawUnsafe<OutboxState[]>(
    `SELECT id::text AS id, published_at IS NOT NULL AS published, attempts, last_error AS "lastError" FROM outbox_events ORDER BY sequence`,
  );

describe('outbox relay and inbox (embedded: PGlite + in-process bus)', () => {
  let db: TestDatabaseHandle;
  let prisma: TestPrisma;
  let bus: InProcessEventBus;
  const received: EventEnvelope[] = [];

  beforeAll(async () => {
    db = await openTestDatabase({ kind: 'pglite', dataDir: 'memory://' });
    prisma = db.prisma;
  }, 120_000); // starting PGlite is slow on a busy machine
  afterAll(() => db.close());
  beforeEach(async () => {
    await prisma.$executeRawUnsafe('TRUNCATE outbox_events, processed_events, test_effects');
    received.length = 0;
    bus = new InProcessEventBus({ retryDelayMs: () => 1 });
    await bus.subscribe({ groupId: 'observer', topics: Object.values(TOPICS), handler: async (e) => void received.push(e) });
  });
  afterEach(() => bus.close());

  it('publishes rows in sequence order, each on its topic keyed by aggregate, and marks them only after the publish', async () => {
    const events = [
      stockChanged('p1', 1),
      createEvent('OrderDelivered', { orderId: 'o1' }),
      stockChanged('p1', 2),
      stockChanged('p2', 1),
    ];
    await append(prisma, events);
    const relay = new OutboxRelay(prisma, { publisher: bus });
    expect(await relay.drain()).toBe(4);
    await bus.drain();
    // Order holds per topic (per partition on Kafka), not across topics.
    const onCatalog = events.filter((e) => e.type === 'StockChanged').map((e) => e.id);
    expect(received.filter((e) => e.type === 'StockChanged').map((e) => e.id)).toEqual(onCatalog);
    expect(received.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(bus.records(TOPICS.catalog).map((r) => r.key)).toEqual(['p1', 'p1', 'p2']);
    expect(bus.records(TOPICS.orders).map((r) => r.key)).toEqual(['o1']);
    expect(await outbox(prisma)).toEqual(events.map((e) => ({ id: e.id, published: true, attempts: 1, lastError: null })));
    expect(await relay.drain()).toBe(0); // nothing is published twice
    expect(await relay.backlog()).toEqual({ size: 0, oldestAgeSeconds: 0 });
  });

  it('while the broker is unreachable rows wait with attempts and the error, then all go, in order', async () => {
    const publisher = new FlakyPublisher(bus);
    publisher.down = true;
    const relay = new OutboxRelay(prisma, {
      publisher,
      pollIntervalMs: 20,
      backoff: { baseDelayMs: 10, maxDelayMs: 40 },
    }).start();
    try {
      const events = [1, 2, 3].map((n) => stockChanged('p1', n));
      await append(prisma, events);
      relay.notify();
      await eventually(async () => {
        const rows = await outbox(prisma);
        expect(rows.every((row) => !row.published && row.attempts >= 2 && row.lastError === 'broker unreachable')).toBe(true);
      });
      expect((await relay.backlog()).size).toBe(3);
      expect(received).toHaveLength(0);

      await append(prisma, [stockChanged('p1', 4)]);
      publisher.down = false;
      await eventually(async () =>
        expect((await outbox(prisma)).every((row) => row.published && row.lastError === null)).toBe(true),
      );
      await bus.drain();
      expect(received.map((e) => (e.payload as { available: number }).available)).toEqual([1, 2, 3, 4]);
    } finally {
      await relay.stop();
    }
  });

  it('never publishes an invalid event and keeps later events of its aggregate behind it; other aggregates go', async () => {
    const broken = createEnvelope({
      type: 'StockChanged',
      aggregateId: 'p1',
      payload: { productId: 'p1', available: -1, reason: 'ADJUSTMENT' },
    });
    const after = stockChanged('p1', 5);
    const other = stockChanged('p2', 7);
    await append(prisma, [broken, after, other]);
    const relay = new OutboxRelay(prisma, { publisher: bus });
    expect(await relay.drain()).toBe(1);
    await bus.drain();
    expect(received.map((e) => e.id)).toEqual([other.id]);
    const rows = await outbox(prisma);
    expect(rows[0]).toMatchObject({ id: broken.id, published: false, attempts: 1 });
    expect(rows[0]!.lastError).toMatch(/^invalid event: StockChanged v1: available/);
    expect(rows[1]).toMatchObject({ id: after.id, published: false, attempts: 0 });
  });

  it('notify() publishes at once instead of at the next poll', async () => {
    const relay = new OutboxRelay(prisma, { publisher: bus, pollIntervalMs: 60_000 }).start();
    try {
      await eventually(async () => expect(relay.backlog()).resolves.toBeDefined());
      await new Promise((resolve) => setTimeout(resolve, 50)); // the relay is idle, waiting for its next poll
      const started = Date.now();
      await append(prisma, [stockChanged('p1', 1)]);
      relay.notify();
      await eventually(() => expect(received).toHaveLength(1), 2000);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await relay.stop();
    }
  });

  it('an idle relay looks with one statement per poll and runs a round only for rows nobody announced', async () => {
    const statements: string[] = [];
    const counted: OutboxDatabase = {
      $queryRawUnsafe: <T>(query: string, ...values: unknown[]) => {
        statements.push(query.trim().split(/\s+/).slice(0, 2).join(' '));
        return prisma.$queryRawUnsafe<T>(query, ...values);
      },
      $executeRawUnsafe: (query: string, ...values: unknown[]) => prisma.$executeRawUnsafe(query, ...values),
      $transaction: (fn, options) => {
        statements.push('BEGIN');
        return prisma.$transaction((tx) => fn(tx), options);
      },
    };
    const relay = new OutboxRelay(counted, { publisher: bus, pollIntervalMs: 30 }).start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 400)); // ~13 polls of an empty outbox
      const idle = [...statements];
      expect(idle.filter((s) => s === 'BEGIN')).toHaveLength(1); // the first round only
      expect(idle.filter((s) => s === 'SELECT EXISTS').length).toBeGreaterThanOrEqual(5);
      await append(prisma, [stockChanged('p1', 1)]); // no notify(): found by a poll
      await eventually(() => expect(received).toHaveLength(1), 2000);
      expect(statements.filter((s) => s === 'BEGIN')).toHaveLength(2);
    } finally {
      await relay.stop();
    }
  });

  it('keeps sequence order past sequence 9 (numeric, not text, order)', async () => {
    await prisma.$executeRawUnsafe(`SELECT setval(pg_get_serial_sequence('outbox_events', 'sequence'), 7)`);
    const events = [1, 2, 3, 4].map((n) => stockChanged('p1', n)); // sequences 8, 9, 10, 11
    await append(prisma, events);
    expect(await new OutboxRelay(prisma, { publisher: bus }).drain()).toBe(4);
    await bus.drain();
    expect(received.map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('a restarted relay carries on where the stopped one left off', async () => {
    const events = Array.from({ length: 25 }, (_, i) => stockChanged(`p${i % 3}`, i));
    await append(prisma, events);
    const first = new OutboxRelay(prisma, { publisher: bus, batchSize: 10 });
    await first.publishRound();
    await first.stop();
    expect((await relay2Backlog()).size).toBe(15);
    await new OutboxRelay(prisma, { publisher: bus, batchSize: 10 }).drain();
    await bus.drain();
    expect(received.map((e) => e.id)).toEqual(events.map((e) => e.id));

    function relay2Backlog() {
      return new OutboxRelay(prisma, { publisher: bus }).backlog();
    }
  });

  it('reports the backlog size and the age of its oldest event', async () => {
    await append(prisma, [stockChanged('p1', 1), stockChanged('p1', 2)]);
    await prisma.$executeRawUnsafe(
      `UPDATE outbox_events SET created_at = now() - interval '90 seconds' WHERE sequence = (SELECT min(sequence) FROM outbox_events)`,
    );
    const backlog = await new OutboxRelay(prisma, { publisher: bus }).backlog();
    expect(backlog.size).toBe(2);
    expect(backlog.oldestAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(backlog.oldestAgeSeconds).toBeLessThan(120);
  });

  describe('inbox', () => {
    const effects = () =>
      prisma.$queryRawUnsafe<{ consumer: string; eventId: string }[]>(
        `SELECT consumer, event_id::text AS "eventId" FROM test_effects ORDER BY id`,
      );
    const recordEffect =
      (consumer: string, event: EventEnvelope) => (tx: { $executeRawUnsafe: TestPrisma['$executeRawUnsafe'] }) =>
        tx.$executeRawUnsafe('INSERT INTO test_effects (consumer, event_id) VALUES ($1, $2::uuid)', consumer, event.id);

    it('applies a redelivered event once per consumer, and each consumer once', async () => {
      const event = stockChanged('p1', 1);
      expect(await processOnce(prisma, 'catalog', event, recordEffect('catalog', event))).toBe(true);
      expect(await processOnce(prisma, 'catalog', event, recordEffect('catalog', event))).toBe(false);
      expect(await processOnce(prisma, 'gateway', event, recordEffect('gateway', event))).toBe(true);
      expect(await effects()).toEqual([
        { consumer: 'catalog', eventId: event.id },
        { consumer: 'gateway', eventId: event.id },
      ]);
    });

    it('keeps nothing when the effect fails, so the retry applies it', async () => {
      const event = stockChanged('p1', 1);
      await expect(
        processOnce(prisma, 'catalog', event, async (tx) => {
          await recordEffect('catalog', event)(tx);
          throw new Error('constraint violated');
        }),
      ).rejects.toThrow('constraint violated');
      expect(await effects()).toEqual([]);
      expect(await processOnce(prisma, 'catalog', event, recordEffect('catalog', event))).toBe(true);
      expect(await effects()).toHaveLength(1);
    });

    it('with the bus: an event published twice (relay retry after a lost ack) has one effect', async () => {
      const outcomes: boolean[] = [];
      await bus.subscribe({
        groupId: 'catalog',
        topics: [TOPICS.orders],
        handler: async (event) => void outcomes.push(await processOnce(prisma, 'catalog', event, recordEffect('catalog', event))),
      });
      const event = createEvent('OrderPlaced', {
        orderId: randomUUID(),
        userId: randomUUID(),
        lines: [{ productId: 'p1', quantity: 1 }],
        paymentMethodId: 'pm',
        currency: 'USD',
      });
      const message = { topic: TOPICS.orders, key: event.aggregateId, envelope: event };
      await bus.publish([message]);
      await bus.publish([message]);
      await bus.drain();
      expect(outcomes).toEqual([true, false]);
      expect(await effects()).toHaveLength(1);
    });
  });
});
