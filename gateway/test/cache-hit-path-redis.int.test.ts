/**
 * The cache hit path with Redis as the shared store: a purge made by one gateway instance makes every
 * instance's hit path miss once the purge is announced (pub/sub), and hits spend the caller's points
 * in the shared limiter.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { bearer, describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import { afterPurge, catalogMoves, publishCatalogEvent, startExtraGateway, waitFor } from './support.ts';

type Gateway = Awaited<ReturnType<typeof startExtraGateway>>;

const PRODUCT = 'query HitPathRedis($id: ID!) { product(id: $id) { id price { amountCents } } }';

describeWithServers(['TEST_REDIS_URL'], 'cache hit path on Redis (two gateway instances)', () => {
  const ADMIN = bearer(randomUUID(), 'ADMIN');
  let stack: TestStack;
  let redis: Redis;
  const prefixes: string[] = [];
  const stoppables: { stop(): Promise<void> }[] = [];

  /** Two instances on one Redis prefix; only the first consumes catalog events (as in one Kafka consumer group). */
  const pair = async (env: Record<string, string> = {}): Promise<[Gateway, Gateway]> => {
    const prefix = `test-hp-${randomUUID().slice(0, 8)}:`;
    prefixes.push(prefix);
    const shared = { REDIS_URL: process.env.TEST_REDIS_URL!, GATEWAY_REDIS_PREFIX: prefix, ...env };
    const consuming = await startExtraGateway(stack, shared, { bus: stack.embedded.bus });
    stoppables.push(consuming);
    const deaf = await startExtraGateway(stack, shared);
    stoppables.push(deaf);
    // Until its feed is live an instance reads the epoch from Redis per hit; tests start from the steady state.
    await waitFor(async () => consuming.cache.currentPurgeEpoch() !== undefined && deaf.cache.currentPurgeEpoch() !== undefined);
    return [consuming, deaf];
  };

  beforeAll(async () => {
    stack = await startTestStack();
    redis = new Redis(process.env.TEST_REDIS_URL!);
  }, 180_000);

  afterAll(async () => {
    for (const stoppable of stoppables.reverse()) await stoppable.stop();
    if (redis) {
      for (const prefix of prefixes) {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length > 0) await redis.del(...keys);
      }
      redis.disconnect();
    }
    await stack?.stop();
  }, 60_000);

  /** Points taken from the general rate limit under this prefix (one caller: the test). */
  const spentPoints = async (prefix: string) => {
    const keys = await redis.keys(`${prefix}rl:general:*`);
    const values = keys.length > 0 ? await redis.mget(...keys) : [];
    return values.reduce((sum, value) => sum + Number(value ?? 0), 0);
  };
  const send = async (gateway: Gateway, body: string) => {
    const response = await fetch(gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: response.status, text: await response.text() };
  };
  const priceFrom = (text: string) =>
    (JSON.parse(text) as { data: { product: { price: { amountCents: number } } } }).data.product.price.amountCents;
  const untilHit = (gateway: Gateway, body: string) =>
    waitFor(async () => {
      const before = gateway.hitPath!.stats().hits;
      const answer = await send(gateway, body);
      return gateway.hitPath!.stats().hits > before && answer;
    });

  it('a purge by one instance makes the other instance’s hit path miss as soon as the purge is announced', async () => {
    const [first, second] = await pair();
    const catalog = catalogMoves(stack, ADMIN, () => [stack.gateway, first]);
    const product = await catalog.createProduct(7000);
    const body = JSON.stringify({ query: PRODUCT, variables: { id: product.id } });
    expect(priceFrom((await untilHit(first, body)).text)).toBe(7000);
    expect(priceFrom((await untilHit(second, body)).text)).toBe(7000);
    await catalog.setPriceWithoutEvent(product.id, 7777);
    // Both still answer from their in-process copies: nothing told them.
    expect(priceFrom((await untilHit(second, body)).text)).toBe(7000);
    expect(priceFrom((await untilHit(first, body)).text)).toBe(7000);

    // The second learns of purges from the pub/sub feed, not from a Redis read per hit.
    await waitFor(async () => second.cache.currentPurgeEpoch() !== undefined);
    const epochBefore = second.cache.currentPurgeEpoch()!;
    // Only the first instance hears the event; it purges Redis.
    await afterPurge(
      [first],
      'ProductUpdated',
      () => product.id,
      () => publishCatalogEvent(stack, 'ProductUpdated', product.id, 7777),
    );
    await waitFor(async () => second.cache.currentPurgeEpoch()! > epochBefore, 2000, 5);
    const secondHits = second.hitPath!.stats().hits;
    expect(priceFrom((await send(second, body)).text)).toBe(7777);
    expect(second.hitPath!.stats().hits).toBe(secondHits);
    expect(priceFrom((await send(first, body)).text)).toBe(7777);
    // And once the normal path has stored the new answer, the hit path serves it again.
    expect(priceFrom((await untilHit(second, body)).text)).toBe(7777);
  });

  it('concurrent hits draw from one lease of points instead of each taking one (no budget wasted)', async () => {
    const [, second] = await pair({ GATEWAY_RATE_LIMIT_POINTS: '100000', GATEWAY_RATE_LIMIT_WINDOW_SECONDS: '60' });
    const prefix = prefixes.at(-1)!;
    const body = JSON.stringify({ query: '{ categories { id slug } }' });
    await untilHit(second, body);
    const sent = { count: 0 };
    const burst = async () => {
      for (let round = 0; round < 5; round++) {
        await Promise.all(Array.from({ length: 40 }, () => (sent.count++, send(second, body))));
      }
    };
    const hitsBefore = second.hitPath!.stats().hits;
    const sentBefore = await spentPoints(prefix);
    await burst();
    const hits = second.hitPath!.stats().hits - hitsBefore;
    expect(hits).toBeGreaterThan(150);
    // Every point taken is spent or left in the one open lease (at most 64), not scattered over 40 leases.
    expect((await spentPoints(prefix)) - sentBefore).toBeLessThanOrEqual(sent.count + 64);
  });

  it('counts hits on both instances against the caller’s one shared budget', async () => {
    const [first, second] = await pair({ GATEWAY_RATE_LIMIT_POINTS: '6', GATEWAY_RATE_LIMIT_WINDOW_SECONDS: '60' });
    const body = JSON.stringify({ query: '{ categories { id name } }' });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await send(i % 2 === 0 ? first : second, body)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429, 429, 429]);
    expect(first.hitPath!.stats().hits + second.hitPath!.stats().hits).toBeGreaterThan(0);
  });
});
