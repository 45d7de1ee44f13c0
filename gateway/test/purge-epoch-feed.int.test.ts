/**
 * The purge epoch feed on a real Redis: purges by another instance arrive as messages, a purge made
 * while the subscriber was cut off is picked up when it resubscribes, and the periodic read bounds a
 * message lost on a connection that looks alive.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describeWithServers } from '@commerce/testkit';
import { PurgeEpochFeed } from '../src/cache/purge-epoch-feed.ts';
import { RedisCacheStore } from '../src/cache/store.ts';
import { waitFor } from './support.ts';

describeWithServers(['TEST_REDIS_URL'], 'purge epoch feed (Redis pub/sub)', () => {
  let redis: Redis;
  const prefixes: string[] = [];
  const feeds: PurgeEpochFeed[] = [];

  const setup = async (resyncEveryMs = 3_600_000, storedEpoch?: number) => {
    const prefix = `test-feed-${randomUUID().slice(0, 8)}:`;
    prefixes.push(prefix);
    if (storedEpoch !== undefined) await redis.set(`${prefix}purge-epoch`, String(storedEpoch));
    // The instance that purges (no feed of its own) and the listening instance's feed.
    const purger = new RedisCacheStore(redis, prefix);
    const connectionName = `feed-${randomUUID().slice(0, 8)}`;
    const epochKey = `${prefix}purge-epoch`;
    const feed = new PurgeEpochFeed({ redis, epochKey, channel: epochKey, resyncEveryMs, connectionName });
    feeds.push(feed);
    return { purger, feed, connectionName, epochKey };
  };

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });

  afterAll(async () => {
    for (const feed of feeds) await feed.close();
    for (const prefix of prefixes) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    redis.disconnect();
  });

  it('vouches for the stored epoch once subscribed, and follows purges published by another instance', async () => {
    const { purger, feed } = await setup(undefined, 41);
    expect(await feed.whenLive()).toBe(true);
    expect(feed.current()).toBe(41);
    await purger.purge(['Product:feed-test']);
    // Two raises per purge (before and after the deletes); no periodic read in this test, so only messages move it.
    expect(await purger.purgeEpoch()).toBe(43);
    await waitFor(async () => feed.current() === 43, 2000, 5);
  });

  it('drops out while its subscriber is cut off and picks up a purge it missed when it resubscribes', async () => {
    const { purger, feed, connectionName } = await setup();
    expect(await feed.whenLive()).toBe(true);
    const clients = (await redis.client('LIST')) as string;
    const id = clients
      .split('\n')
      .find((line) => line.includes(` name=${connectionName} `))
      ?.match(/^id=(\d+)/)?.[1];
    expect(id).toBeDefined();
    await redis.client('KILL', 'ID', id!);
    await waitFor(async () => feed.current() === undefined, 2000, 1);
    // Purged while the subscriber is away: no message reaches it.
    await purger.purge(['Product:missed']);
    const epoch = await purger.purgeEpoch();
    expect(await feed.whenLive()).toBe(true);
    expect(feed.current()).toBe(epoch);
  });

  it('bounds a lost message by reading the epoch periodically', async () => {
    const { feed, epochKey } = await setup(100);
    expect(await feed.whenLive()).toBe(true);
    // Raised without a message (as if it had been lost): the periodic read finds it.
    await redis.incrby(epochKey, 5);
    await waitFor(async () => feed.current() === 5, 2000, 10);
  });
});
