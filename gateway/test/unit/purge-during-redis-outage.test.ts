// Regression (issue 21): a 10 s Redis outage dead-lettered 16 catalog events on the gateway's cache-purge
// consumer ("Stream isn't writeable"), which then needed a manual replay. A store that is down is an
// outage, not a poison message: the purge is retried with backoff until Redis is back, and never parked.
import { createEvent, deadLetterTopic, InProcessEventBus, TOPICS, type DeadLetter } from '@commerce/events';
import { createLogger } from '@commerce/platform';
import { MemoryCacheStore } from '../../src/cache/store.ts';
import { subscribeCachePurges, type CachePurge } from '../../src/cache/purge-on-events.ts';

const GROUP = 'gateway.cache-purge';
const silent = createLogger({ service: 'gateway-test', level: 'silent' });

/** What ioredis throws while Redis is down, each way it says so. */
const redisDown = [
  () => new Error("Stream isn't writeable and enableOfflineQueue options is false"),
  () => new Error('Connection is closed.'),
  () =>
    Object.assign(
      new Error('Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.'),
      { name: 'MaxRetriesPerRequestError' },
    ),
  () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }),
  () => new Error('Command timed out'),
];

describe("the gateway's cache purges while Redis is down", () => {
  it('are retried past maxAttempts until the store answers again, then purge, and none is parked', async () => {
    const parked: DeadLetter[] = [];
    const bus = new InProcessEventBus({ maxAttempts: 3, retryDelayMs: () => 1, onDeadLetter: (letter) => parked.push(letter) });
    const store = new MemoryCacheStore(1_000_000);
    let failuresLeft = 4 * redisDown.length; // well past maxAttempts for every message
    const purge = store.purge.bind(store);
    store.purge = async (tags) => {
      if (failuresLeft > 0) throw redisDown[failuresLeft-- % redisDown.length]!();
      return purge(tags);
    };
    const purged: CachePurge[] = [];
    const subscription = await subscribeCachePurges({
      subscriber: bus,
      store,
      groupId: GROUP,
      logger: silent,
      onPurged: (p) => purged.push(p),
    });
    try {
      const events = [1, 2, 3].map((n) =>
        createEvent('StockChanged', { productId: `p-${n}`, available: n, reason: 'ADJUSTMENT' }),
      );
      await bus.publish(events.map((envelope) => ({ topic: TOPICS.catalog, key: envelope.aggregateId, envelope })));
      await bus.drain(10_000);
      expect(failuresLeft).toBe(0);
      expect(purged.map((p) => p.aggregateId)).toEqual(events.map((event) => event.aggregateId));
      expect(parked).toEqual([]);
      expect(bus.records(deadLetterTopic(GROUP))).toEqual([]);
    } finally {
      await subscription.stop();
      await bus.close();
      await store.close();
    }
  });

  it('still parks an event the purge fails on for any other reason, after maxAttempts', async () => {
    const parked: DeadLetter[] = [];
    const bus = new InProcessEventBus({ maxAttempts: 3, retryDelayMs: () => 1, onDeadLetter: (letter) => parked.push(letter) });
    const store = new MemoryCacheStore(1_000_000);
    store.purge = async () => {
      throw new Error('ERR wrong number of arguments for command');
    };
    const subscription = await subscribeCachePurges({ subscriber: bus, store, groupId: GROUP, logger: silent });
    try {
      const envelope = createEvent('StockChanged', { productId: 'p-1', available: 1, reason: 'ADJUSTMENT' });
      await bus.publish([{ topic: TOPICS.catalog, key: envelope.aggregateId, envelope }]);
      await bus.drain(10_000);
      expect(parked.map((letter) => letter.attempts)).toEqual([3]);
    } finally {
      await subscription.stop();
      await bus.close();
      await store.close();
    }
  });
});
