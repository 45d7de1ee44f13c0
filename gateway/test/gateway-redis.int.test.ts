/**
 * Full-mode gateway features on a real Redis: the response cache and its purges shared by several
 * gateway instances, private entries per user, rate limits counted across instances, APQ shared, and
 * the fallbacks when Redis goes away.
 */
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';
import { bearer, describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import type { RunningGateway } from '../src/main.ts';
import {
  afterPurge,
  catalogMoves,
  composeWith,
  gql,
  metricsOf,
  metricValue,
  post,
  publishCatalogEvent,
  sha256,
  startExtraGateway,
  startViewerNotesSubgraph,
  VIEWER_NOTES_SCHEMA,
  waitFor,
} from './support.ts';

type Gateway = RunningGateway & { graphqlUrl: string; baseUrl: string };

describeWithServers(['TEST_REDIS_URL'], 'gateway on Redis (full mode)', () => {
  const ADMIN = bearer(randomUUID(), 'ADMIN');
  const prefix = `test-gw-${randomUUID().slice(0, 8)}:`;
  let stack: TestStack;
  let redis: Redis;
  let first: Gateway;
  let second: Gateway;
  const stoppables: { stop(): Promise<void> }[] = [];

  const redisGateway = async (env: Record<string, string> = {}, supergraphSdl?: string) => {
    const gateway = await startExtraGateway(
      stack,
      { REDIS_URL: process.env.TEST_REDIS_URL!, GATEWAY_REDIS_PREFIX: prefix, ...env },
      { bus: stack.embedded.bus, supergraphSdl },
    );
    stoppables.push(gateway);
    return gateway;
  };

  beforeAll(async () => {
    stack = await startTestStack();
    redis = new Redis(process.env.TEST_REDIS_URL!);
    first = await redisGateway();
    second = await redisGateway();
  }, 180_000);

  afterAll(async () => {
    for (const stoppable of stoppables.reverse()) await stoppable.stop();
    if (redis) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
    await stack?.stop();
  }, 60_000);

  const moves = () => catalogMoves(stack, ADMIN, () => [stack.gateway, first, second]);

  it('shares cached responses between gateway instances and purges them for all on a product event', async () => {
    const product = await moves().createProduct(5000);
    expect(await moves().priceOf(product.id, first.graphqlUrl)).toBe(5000);
    // Apollo's response-cache plugin writes in the background after the answer is sent.
    const tagged = await waitFor(async () => {
      const members = await redis.smembers(`${prefix}tag:Product:${product.id}`);
      return members.length > 0 && members;
    });
    expect(tagged).toHaveLength(1);
    await moves().setPriceWithoutEvent(product.id, 5555);
    // The second instance never served this query, yet answers from the shared cache.
    expect(await moves().priceOf(product.id, second.graphqlUrl)).toBe(5000);
    expect(metricValue(await metricsOf(second), 'gateway_response_cache_lookups_total', { result: 'hit' })).toBeGreaterThan(0);

    await afterPurge(
      [first, second],
      'ProductUpdated',
      () => product.id,
      () => publishCatalogEvent(stack, 'ProductUpdated', product.id, 5555),
    );
    expect(await moves().priceOf(product.id, second.graphqlUrl)).toBe(5555);
    expect(await moves().priceOf(product.id, first.graphqlUrl)).toBe(5555);
  });

  it('after updateProduct changes the price, the next query shows the new price', async () => {
    const product = await moves().createProduct(6000);
    expect(await moves().priceOf(product.id, first.graphqlUrl)).toBe(6000);
    expect(await moves().priceOf(product.id, second.graphqlUrl)).toBe(6000);
    await moves().updatePrice(product, 6666);
    expect(await moves().priceOf(product.id, second.graphqlUrl)).toBe(6666);
  });

  it('keys private entries by the verified user id in Redis too', async () => {
    const notes = await startViewerNotesSubgraph();
    stoppables.push(notes);
    const supergraph = composeWith(stack, [{ name: 'viewer-notes', url: notes.url, schema: VIEWER_NOTES_SCHEMA }]);
    const [one, two] = [await redisGateway({}, supergraph), await redisGateway({}, supergraph)];
    const note = async (gateway: Gateway, user: string) =>
      (
        await gql<{ viewerNote: { owner: string; computation: number } }>(
          gateway.graphqlUrl,
          '{ viewerNote { owner computation } }',
          {},
          { authorization: bearer(user) },
        )
      ).body.data?.viewerNote;
    const [a, b] = [randomUUID(), randomUUID()];
    expect(await note(one, a)).toEqual({ owner: a, computation: 1 });
    expect(await note(two, a)).toEqual({ owner: a, computation: 1 });
    expect(await note(two, b)).toEqual({ owner: b, computation: 2 });
    expect(await note(one, b)).toEqual({ owner: b, computation: 2 });
    expect(notes.computations()).toBe(2);
  });

  it('counts a caller’s rate limit across instances, answers RATE_LIMITED, then recovers', async () => {
    const env = { GATEWAY_RATE_LIMIT_POINTS: '4', GATEWAY_RATE_LIMIT_WINDOW_SECONDS: '2' };
    const [one, two] = [await redisGateway(env), await redisGateway(env)];
    const caller = { authorization: bearer(randomUUID()) };
    const ask = (gateway: Gateway) => gql(gateway.graphqlUrl, '{ products(first: 1) { totalCount } }', {}, caller);
    for (const gateway of [one, two, one, two]) expect((await ask(gateway)).status).toBe(200);
    const rejected = await ask(one);
    expect(rejected.status).toBe(429);
    expect(rejected.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    const retryAfter = rejected.body.errors![0]!.extensions!.retryAfter as number;
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect((await ask(two)).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
    expect((await ask(two)).status).toBe(200);
  });

  it('serves APQ hashes registered through another instance', async () => {
    const query = `query SharedApq { categories { id } }`;
    const persistedQuery = { version: 1, sha256Hash: sha256(query) };
    expect((await post(first.graphqlUrl, { query, extensions: { persistedQuery } })).body.errors).toBeUndefined();
    const byHash = await post(second.graphqlUrl, { extensions: { persistedQuery } });
    expect(byHash.body.errors).toBeUndefined();
    expect(byHash.body.data).toHaveProperty('categories');
  });

  describe('when Redis goes away', () => {
    let server: ChildProcess | undefined;
    afterAll(() => {
      server?.kill('SIGKILL');
    });

    it('keeps serving, with local rate limits, and never crashes', async () => {
      const port = await freePort();
      server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
      const own = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 100 });
      await waitFor(async () => (await own.ping().catch(() => undefined)) === 'PONG');
      own.disconnect();
      const gateway = await redisGateway({
        REDIS_URL: `redis://127.0.0.1:${port}`,
        GATEWAY_RATE_LIMIT_POINTS: '3',
        GATEWAY_RATE_LIMIT_WINDOW_SECONDS: '60',
      });
      const caller = { authorization: bearer(randomUUID()) };
      const ask = () => gql(gateway.graphqlUrl, '{ products(first: 1) { totalCount } }', {}, caller);
      expect((await ask()).status).toBe(200);

      server.kill('SIGKILL');
      await new Promise((resolve) => server!.once('exit', resolve));
      server = undefined;

      // Redis is gone: answers keep coming (from the subgraphs), quickly, and the local limiter takes over.
      const started = Date.now();
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await ask()).status);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses[3]).toBe(429);
      expect((await fetch(`${gateway.management.url}/health`)).status).toBe(200);
    });

    it('starts even when Redis is unreachable from the beginning', async () => {
      const port = await freePort();
      // Not on the test bus: with Redis unreachable its cache purges wait for Redis (retried, never parked),
      // so it could never catch up with what earlier tests published, which startExtraGateway waits for.
      const gateway = await startExtraGateway(stack, { REDIS_URL: `redis://127.0.0.1:${port}`, GATEWAY_REDIS_PREFIX: prefix });
      stoppables.push(gateway);
      const { status, body } = await gql(gateway.graphqlUrl, '{ products(first: 1) { totalCount } }');
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
    });
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
