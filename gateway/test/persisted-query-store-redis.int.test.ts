/**
 * The APQ store on a real Redis (issue 19 item 10): registered queries live in one byte-bounded
 * structure under their own keys, so however many are registered they hold a bounded share of Redis's
 * memory and never touch the response cache's keys.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describeWithServers } from '@commerce/testkit';
import { RedisPersistedQueryStore } from '../src/persisted-queries.ts';
import { RedisCacheStore } from '../src/cache/store.ts';

describeWithServers(['TEST_REDIS_URL'], 'persisted queries on Redis', () => {
  const prefix = `test-apq-${randomUUID().slice(0, 8)}:`;
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(process.env.TEST_REDIS_URL!);
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const bigQuery = (n: number) => `# ${n} ${'x'.repeat(90_000)}\n{ products(first: 1) { totalCount } }`;

  it('a flood of 90 KB registrations stays within its byte bound, evicting the least recently used, and leaves cached answers alone', async () => {
    const responses = new RedisCacheStore(redis, prefix);
    await responses.set('fqc:answer', '{"data":{"products":{"totalCount":3}}}', { ttl: 600 });
    const store = new RedisPersistedQueryStore(redis, prefix, { maxBytes: 400_000, ttlSeconds: 3600 });

    for (let n = 0; n < 30; n++) await store.set(`apq:${n}`, bigQuery(n), { ttl: 3600 });

    expect(await store.bytes()).toBeLessThanOrEqual(400_000);
    expect(await store.bytes()).toBeGreaterThan(300_000);
    expect(await store.get('apq:0')).toBeUndefined();
    expect(await store.get('apq:29')).toBe(bigQuery(29));
    expect(await redis.hlen(`${prefix}{apq}:queries`)).toBe(4);
    expect(await responses.get('fqc:answer')).toBe('{"data":{"products":{"totalCount":3}}}');
    // Nothing of APQ among the response cache's keys.
    const keys = await redis.keys(`${prefix}*`);
    expect(keys.filter((key) => !key.startsWith(`${prefix}{apq}:`)).sort()).toEqual([`${prefix}kv:fqc:answer`]);
  });

  it('registering a known query again costs nothing more; a query larger than the bound is not kept', async () => {
    const store = new RedisPersistedQueryStore(redis, `${prefix}again:`, { maxBytes: 200_000, ttlSeconds: 3600 });
    await store.set('apq:a', bigQuery(1));
    const once = await store.bytes();
    await store.set('apq:a', bigQuery(1));
    expect(await store.bytes()).toBe(once);
    await store.set('apq:huge', 'y'.repeat(250_000));
    expect(await store.get('apq:huge')).toBeUndefined();
    expect(await store.get('apq:a')).toBe(bigQuery(1));
    expect(await store.delete('apq:a')).toBe(true);
    expect(await store.get('apq:a')).toBeUndefined();
  });

  it('forgets a query unused for the TTL, and the whole structure expires with it', async () => {
    const scoped = `${prefix}ttl:`;
    const store = new RedisPersistedQueryStore(redis, scoped, { maxBytes: 200_000, ttlSeconds: 1 });
    await store.set('apq:short', '{ categories { id } }');
    expect(await store.get('apq:short')).toBe('{ categories { id } }');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await store.get('apq:short')).toBeUndefined();
    expect(await redis.exists(`${scoped}{apq}:queries`, `${scoped}{apq}:used`, `${scoped}{apq}:bytes`)).toBe(0);
  });
});
