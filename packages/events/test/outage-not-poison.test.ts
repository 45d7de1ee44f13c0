// Regression (reliability/faults-infrastructure): with PostgreSQL down for ~10 s, consumers used up their
// 5 attempts and parked good events (OrderPlaced, StockReserved) on the DLQ; an order then ended
// CONFIRMED without the catalog's prices. A database outage now never counts towards parking.
import {
  createEvent,
  deadLetterTopic,
  InProcessEventBus,
  isOutage,
  type EventEnvelope,
  type OutgoingMessage,
} from '../src/index.ts';
import { ids } from './fixtures.ts';
import { eventually } from './support/eventually.ts';

const topic = 'orders.events';
const stockChanged = (available: number) =>
  createEvent('StockChanged', { productId: ids.productId, available, reason: 'ADJUSTMENT' });
const message = (envelope: EventEnvelope): OutgoingMessage => ({ topic, key: envelope.aggregateId, envelope });

/** What Prisma with the pg adapter throws while the server is down. */
const unreachable = () =>
  Object.assign(
    new Error(
      "Invalid `prisma.$queryRawUnsafe()` invocation:\n\nRaw query failed. Code: `N/A`. Message: `Can't reach database server at 127.0.0.1:5432`",
    ),
    {
      code: 'P1001',
    },
  );

describe('a database outage while handling events', () => {
  it('is told apart from a broken message', () => {
    expect(isOutage(unreachable())).toBe(true);
    expect(isOutage(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      isOutage(new Error('Database error. Code: `57P03`. Message: `the database system is not yet accepting connections`')),
    ).toBe(true);
    expect(isOutage(new Error('cannot apply 2'))).toBe(false);
  });

  it('counts Redis and network outages as outages too (the gateway purges its cache in Redis)', () => {
    expect(isOutage(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
    expect(isOutage(new Error('Connection is closed.'))).toBe(true);
    expect(
      isOutage(Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' })),
    ).toBe(true);
    expect(isOutage(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }))).toBe(true);
    expect(isOutage(new Error('purge failed', { cause: new Error('Command timed out') }))).toBe(true);
    expect(isOutage(new Error('ERR wrong number of arguments for command'))).toBe(false);
  });

  it('keeps retrying past maxAttempts until the database is back, then handles the message once and in order', async () => {
    const handled: number[] = [];
    const parked: string[] = [];
    let failuresLeft = 12;
    const bus = new InProcessEventBus({ retryDelayMs: () => 1, onDeadLetter: (letter) => parked.push(String(letter.eventType)) });
    try {
      await bus.subscribe({
        groupId: 'catalog',
        topics: [topic],
        maxAttempts: 3,
        handler: async (e) => {
          const available = (e.payload as { available: number }).available;
          if (available === 2 && failuresLeft-- > 0) throw unreachable();
          handled.push(available);
        },
      });
      await bus.publish([1, 2, 3].map((n) => message(stockChanged(n))));
      await eventually(() => expect(handled).toEqual([1, 2, 3]));
      expect(failuresLeft).toBe(-1);
      expect(parked).toEqual([]);
      expect(bus.records(deadLetterTopic('catalog'))).toEqual([]);
    } finally {
      await bus.close();
    }
  });

  it('still parks a message whose handler fails for any other reason after maxAttempts', async () => {
    const parked: string[] = [];
    const bus = new InProcessEventBus({
      retryDelayMs: () => 1,
      onDeadLetter: (letter) => parked.push(`${letter.eventType} after ${letter.attempts}`),
    });
    try {
      await bus.subscribe({
        groupId: 'catalog',
        topics: [topic],
        maxAttempts: 3,
        handler: async () => {
          throw new Error('cannot apply');
        },
      });
      await bus.publish([message(stockChanged(1))]);
      await eventually(() => expect(parked).toEqual(['StockChanged after 3']));
    } finally {
      await bus.close();
    }
  });
});
