/**
 * The gateway's cache purges through a 10 s Redis outage (issue 21): a private Redis is SIGKILLed while
 * catalog events keep arriving, and started again after RECOVERY_REDIS_DOWN_MS. Before the fix the
 * purges failing with "Stream isn't writeable" used up their attempts and were parked on the
 * dead-letter topic (16 of them in the fault suite), needing a manual replay; now an outage is retried
 * with backoff until Redis is back, and nothing is parked. The bus here is the in-process one, which
 * shares the retry rules (`isOutage`) with the Kafka bus.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { describeWithServers } from '@commerce/testkit';
import { createEvent, deadLetterTopic, InProcessEventBus, TOPICS, type DeadLetter } from '@commerce/events';
import { createLogger } from '@commerce/platform';
import { freePort } from '../bench/src/processes.ts';
import { connectRedis } from '../gateway/src/redis.ts';
import { RedisCacheStore } from '../gateway/src/cache/store.ts';
import { subscribeCachePurges } from '../gateway/src/cache/purge-on-events.ts';
import { PrivateRedis } from './support/private-servers.ts';

jest.setTimeout(120_000);

const DOWN_MS = Number(process.env.RECOVERY_REDIS_DOWN_MS ?? 10_000);
const GROUP = 'gateway-cache-purge';
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Needs redis-server on the PATH (as the infrastructure fault tests do), not the shared Redis.
describeWithServers(['TEST_REDIS_URL'], "recovery: the gateway's cache purges survive a Redis outage", () => {
  let redis: PrivateRedis;
  const silent = createLogger({ service: 'gateway', level: 'silent' });

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
  });
  afterAll(() => redis?.destroy());

  it(`purges every event that arrived during a ${DOWN_MS / 1000} s outage once Redis is back, parking none`, async () => {
    const client = await connectRedis(redis.url, silent);
    const store = new RedisCacheStore(client, `recovery-${randomUUID().slice(0, 8)}:`);
    await store.syncClock();
    const parked: DeadLetter[] = [];
    // The gateway's defaults: 5 attempts, 200 ms doubling to 5 s.
    const bus = new InProcessEventBus({ onDeadLetter: (letter) => parked.push(letter) });
    const purgedAt = new Map<string, number>();
    const subscription = await subscribeCachePurges({
      subscriber: bus,
      store,
      groupId: GROUP,
      logger: silent,
      onPurged: (purge) => purgedAt.set(purge.eventId, Date.now()),
    });
    const publish = async (count: number) => {
      const events = Array.from({ length: count }, (_, n) =>
        createEvent('StockChanged', { productId: randomUUID(), available: n, reason: 'ADJUSTMENT' }),
      );
      await bus.publish(events.map((envelope) => ({ topic: TOPICS.catalog, key: envelope.aggregateId, envelope })));
      return events.map((event) => event.id);
    };
    try {
      const before = await publish(2);
      for (const deadline = Date.now() + 10_000; before.some((id) => !purgedAt.has(id)) && Date.now() < deadline;)
        await pause(50);
      expect(before.every((id) => purgedAt.has(id))).toBe(true);

      await redis.kill();
      const during = await publish(16);
      await pause(DOWN_MS);
      await redis.start();
      const back = Date.now();
      for (const deadline = back + 60_000; during.some((id) => !purgedAt.has(id)) && Date.now() < deadline;) await pause(50);
      const purgedAfterMs = Math.max(...during.map((id) => (purgedAt.get(id) ?? Infinity) - back));
      console.log(
        `[recovery] Redis down ${DOWN_MS} ms with 16 catalog events arriving: ` +
          `${during.filter((id) => purgedAt.has(id)).length} purged, ${parked.length} parked; ` +
          `last purge ${purgedAfterMs} ms after Redis answered again`,
      );
      expect(parked).toEqual([]);
      expect(bus.records(deadLetterTopic(GROUP))).toEqual([]);
      expect(during.every((id) => purgedAt.has(id))).toBe(true);
    } finally {
      await subscription.stop();
      await bus.close();
      await store.close();
      client.disconnect();
    }
  });
});
