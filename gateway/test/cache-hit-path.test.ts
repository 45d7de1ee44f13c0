/**
 * The cache hit path (gateway/src/cache/hit-path.ts) in embedded mode, over HTTP: it answers repeated
 * anonymous queries with the normal path's exact bytes and headers, and gives up none of the normal
 * path's guarantees — TTL, purges, private answers, rate limits, the safelist, body rules.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bearer, startTestStack, type TestStack } from '@commerce/testkit';
import type { HitPathStats } from '../src/cache/hit-path.ts';
import {
  afterPurge,
  catalogMoves,
  metricsOf,
  metricValue,
  publishCatalogEvent,
  sha256,
  startExtraGateway,
  waitFor,
} from './support.ts';

const ADMIN = bearer(randomUUID(), 'ADMIN');
const ORIGIN = 'https://shop.example';
const PRODUCT = 'query HitPathProduct($id: ID!) { product(id: $id) { id name price { amountCents currency } } }';
/** Stock is cacheable for 10 s only, so this answer's max-age is 10. */
const PRODUCT_STOCK = 'query HitPathStock($id: ID!) { product(id: $id) { id price { amountCents } stock { available } } }';

type Gateway = Awaited<ReturnType<typeof startExtraGateway>>;

let stack: TestStack;
const extras: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  stack = await startTestStack();
}, 180_000);

afterAll(async () => {
  for (const gateway of extras) await gateway.stop();
  await stack?.stop();
}, 60_000);

/** A gateway of its own (its own memory cache and hit path), purged by the stack's catalog events. */
async function gatewayWith(env: Record<string, string> = {}): Promise<Gateway> {
  const gateway = await startExtraGateway(stack, { GATEWAY_CORS_ORIGINS: ORIGIN, ...env }, { bus: stack.embedded.bus });
  extras.push(gateway);
  return gateway;
}

const moves = (gateways: () => Gateway[]) => catalogMoves(stack, ADMIN, () => [stack.gateway, ...gateways()]);

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function send(url: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const stats = (gateway: Gateway): HitPathStats => gateway.hitPath!.stats();
const priceIn = (answer: Answer) =>
  (JSON.parse(answer.text) as { data: { product: { price: { amountCents: number } } } }).data.product.price.amountCents;

/** Sends `body` until the hit path answers it (the 1st request fills the response cache, the 2nd copies it). */
async function untilHit(gateway: Gateway, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  return waitFor(async () => {
    const before = stats(gateway).hits;
    const answer = await send(gateway.graphqlUrl, body, headers);
    return stats(gateway).hits > before && answer;
  });
}

/** Headers a response carries, minus those that differ per request or per second. */
const stableHeaders = (headers: Headers) => [...headers].filter(([name]) => !['x-request-id', 'date', 'age'].includes(name));

describe('cache hit path', () => {
  it('answers a repeated anonymous query with the bytes and headers the normal path sends for a cache hit', async () => {
    const gateway = await gatewayWith();
    const product = await moves(() => [gateway]).createProduct(1200);
    const body = JSON.stringify({ query: PRODUCT, variables: { id: product.id } });
    for (const headers of [{}, { origin: ORIGIN }, { origin: 'https://elsewhere.example' }] as Record<string, string>[]) {
      const hitsBefore = metricValue(await metricsOf(gateway), 'gateway_response_cache_lookups_total', { result: 'hit' });
      const fromHitPath = await untilHit(gateway, body, { ...headers, 'x-request-id': 'hit-path-1' });
      expect(metricValue(await metricsOf(gateway), 'gateway_response_cache_lookups_total', { result: 'hit' })).toBeGreaterThan(
        hitsBefore,
      );
      // Forget the copies: the same request now takes the normal path and hits the response cache there.
      gateway.hitPath!.clear();
      const misses = stats(gateway).misses;
      const fromNormalPath = await send(gateway.graphqlUrl, body, { ...headers, 'x-request-id': 'normal-path-1' });
      expect(stats(gateway).misses).toBe(misses + 1);

      expect(fromHitPath.status).toBe(200);
      expect(fromNormalPath.status).toBe(200);
      expect(fromHitPath.text).toBe(fromNormalPath.text);
      expect(stableHeaders(fromHitPath.headers)).toEqual(stableHeaders(fromNormalPath.headers));
      expect(fromHitPath.headers.get('x-request-id')).toBe('hit-path-1');
      expect(fromNormalPath.headers.get('x-request-id')).toBe('normal-path-1');
      const ageGap = Number(fromHitPath.headers.get('age')) - Number(fromNormalPath.headers.get('age'));
      expect(Math.abs(ageGap)).toBeLessThanOrEqual(1);
      expect(fromHitPath.headers.get('content-type')).toMatch(/^application\/json/);
    }
    // Hits are counted where the normal path counts its requests, under the same labels.
    await untilHit(gateway, body);
    const series = { method: 'POST', route: '/graphql', status: '200' };
    const operation = { operation: 'HitPathProduct', type: 'query' };
    const exposition = await metricsOf(gateway);
    const requestsBefore = metricValue(exposition, 'http_request_duration_seconds_count', series);
    const operationsBefore = metricValue(exposition, 'graphql_operations_total', operation);
    const hitsBefore = stats(gateway).hits;
    for (let i = 0; i < 3; i++) await send(gateway.graphqlUrl, body);
    expect(stats(gateway).hits).toBe(hitsBefore + 3);
    expect(metricValue(await metricsOf(gateway), 'http_request_duration_seconds_count', series)).toBe(requestsBefore + 3);
    expect(metricValue(await metricsOf(gateway), 'graphql_operations_total', operation)).toBe(operationsBefore + 3);
    // CORS headers follow the Origin exactly as the normal path sets them.
    const allowed = await untilHit(gateway, body, { origin: ORIGIN });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const refused = await untilHit(gateway, body, { origin: 'https://elsewhere.example' });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers the APQ GET form by hash', async () => {
    const gateway = await gatewayWith();
    const query = 'query HitPathApq { categories { id name } }';
    const persistedQuery = { version: 1, sha256Hash: sha256(query) };
    expect((await send(gateway.graphqlUrl, JSON.stringify({ query, extensions: { persistedQuery } }))).status).toBe(200);
    const url = new URL(gateway.graphqlUrl);
    url.searchParams.set('extensions', JSON.stringify({ persistedQuery }));
    const get = async () => {
      const response = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
      return { status: response.status, text: await response.text() };
    };
    const first = await get();
    expect(first.status).toBe(200);
    await waitFor(async () => {
      const before = stats(gateway).hits;
      const again = await get();
      expect(again).toEqual(first);
      return stats(gateway).hits > before;
    });
    // Without the preflight header Apollo's CSRF prevention refuses the GET, and so does the hit path.
    const hits = stats(gateway).hits;
    const unprotected = await fetch(url);
    expect(unprotected.status).toBe(400);
    expect(stats(gateway).hits).toBe(hits);
  });

  it('stops answering when the max-age runs out', async () => {
    const gateway = await gatewayWith();
    const catalog = moves(() => [gateway]);
    const product = await catalog.createProduct(1300);
    const body = JSON.stringify({ query: PRODUCT_STOCK, variables: { id: product.id } });
    const cached = await untilHit(gateway, body);
    expect(priceIn(cached)).toBe(1300);
    await catalog.setPriceWithoutEvent(product.id, 1333);
    const hit = await send(gateway.graphqlUrl, body);
    expect(priceIn(hit)).toBe(1300); // still the copy: nothing told the gateway
    // max-age 10 s: within about 11 s the price the database holds must show, through the normal path.
    const started = Date.now();
    await waitFor(async () => priceIn(await send(gateway.graphqlUrl, body)) === 1333, 20_000, 200);
    expect(Date.now() - started).toBeGreaterThan(7_000);
  }, 40_000);

  it('misses at once after a catalog event purges the entity', async () => {
    const gateway = await gatewayWith();
    const catalog = moves(() => [gateway]);
    const product = await catalog.createProduct(1400);
    const body = JSON.stringify({ query: PRODUCT, variables: { id: product.id } });
    await untilHit(gateway, body);
    await catalog.setPriceWithoutEvent(product.id, 1444);
    expect(priceIn(await send(gateway.graphqlUrl, body))).toBe(1400);
    await afterPurge(
      [gateway],
      'ProductUpdated',
      () => product.id,
      () => publishCatalogEvent(stack, 'ProductUpdated', product.id, 1444),
    );
    const hits = stats(gateway).hits;
    expect(priceIn(await send(gateway.graphqlUrl, body))).toBe(1444);
    expect(stats(gateway).hits).toBe(hits);
  });

  it('never answers or keeps requests that carry credentials', async () => {
    const gateway = await gatewayWith();
    const product = await moves(() => [gateway]).createProduct(1500);
    const body = JSON.stringify({ query: PRODUCT, variables: { id: product.id } });
    await untilHit(gateway, body);
    const before = stats(gateway);
    const customer = bearer(randomUUID());
    const credentials: Record<string, string>[] = [
      { authorization: customer },
      { cookie: 'session=abc' },
      { authorization: ADMIN },
    ];
    for (const headers of credentials) {
      for (let i = 0; i < 3; i++) expect((await send(gateway.graphqlUrl, body, headers)).status).toBe(200);
    }
    const after = stats(gateway);
    expect(after.hits).toBe(before.hits);
    expect(after.fills).toBe(before.fills);
    // A forged token is still refused by the normal path, even for a query the hit path holds.
    const forged = await send(gateway.graphqlUrl, body, { authorization: 'Bearer not.a.token' });
    expect(forged.status).toBe(401);
  });

  it('still spends the caller’s rate limit and hands the refusal to the normal path', async () => {
    const gateway = await gatewayWith({ GATEWAY_RATE_LIMIT_POINTS: '4', GATEWAY_RATE_LIMIT_WINDOW_SECONDS: '60' });
    const body = JSON.stringify({ query: '{ categories { id } }' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await send(gateway.graphqlUrl, body)).status);
    // 1: fills the response cache, 2: copied from it, 3-4: hit path, then the budget of 4 is spent.
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    // (The cache write after request 1 runs in the background: request 2 may miss it, so 1 or 2 hits.)
    expect(stats(gateway).hits).toBeGreaterThanOrEqual(1);
    const refused = await send(gateway.graphqlUrl, body);
    expect(JSON.parse(refused.text).errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', policy: 'general' });
  });

  it('spends the points of the client the trusted proxies name (GATEWAY_TRUST_PROXY), hits and misses alike', async () => {
    const limits = { GATEWAY_RATE_LIMIT_POINTS: '4', GATEWAY_RATE_LIMIT_WINDOW_SECONDS: '60' };
    const body = JSON.stringify({ query: '{ categories { id name } }' });
    // One proxy hop trusted (loopback, where the test runs): the rightmost X-Forwarded-For entry is the
    // client; whatever the client itself put in front of it changes nothing.
    const oneHop = await gatewayWith({ ...limits, GATEWAY_TRUST_PROXY: '1' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await send(oneHop.graphqlUrl, body, { 'x-forwarded-for': `198.51.100.${i}, 203.0.113.5` })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    expect(stats(oneHop).hits).toBeGreaterThanOrEqual(1);
    // Another client behind the same proxy has a budget of its own.
    expect((await send(oneHop.graphqlUrl, body, { 'x-forwarded-for': '203.0.113.6' })).status).toBe(200);

    // The peer is not a trusted proxy: the address it claims for the client is ignored.
    const untrusted = await gatewayWith({ ...limits, GATEWAY_TRUST_PROXY: '10.0.0.0/8' });
    const claimed: number[] = [];
    for (let i = 0; i < 6; i++)
      claimed.push((await send(untrusted.graphqlUrl, body, { 'x-forwarded-for': `203.0.113.${i}` })).status);
    expect(claimed).toEqual([200, 200, 200, 200, 429, 429]);
    expect(stats(untrusted).hits).toBeGreaterThanOrEqual(1);
  });

  it('never serves an operation the safelist refuses', async () => {
    const listed = 'query HitPathSafe { categories { id name } }';
    const manifest = path.join(mkdtempSync(path.join(tmpdir(), 'safelist-')), 'manifest.json');
    writeFileSync(
      manifest,
      JSON.stringify({
        format: 'apollo-persisted-query-manifest',
        version: 1,
        operations: [{ id: sha256(listed), name: 'HitPathSafe', type: 'query', body: listed }],
      }),
    );
    const gateway = await gatewayWith({ GATEWAY_SAFELIST_FILE: manifest });
    await untilHit(gateway, JSON.stringify({ query: listed }));
    const before = stats(gateway);
    for (let i = 0; i < 3; i++) {
      const refused = await send(gateway.graphqlUrl, JSON.stringify({ query: '{ categories { id name } }' }));
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_ALLOWED');
    }
    expect(stats(gateway).hits).toBe(before.hits);
    expect(stats(gateway).fills).toBe(before.fills);
  });

  it('leaves body and content-type rules to the normal path', async () => {
    const gateway = await gatewayWith({ GATEWAY_BODY_LIMIT_BYTES: '2048' });
    const query = '{ categories { id } }';
    await untilHit(gateway, JSON.stringify({ query }));
    // Over the limit, with the same query inside: the normal path's 413.
    const padded = JSON.stringify({ query, variables: { padding: 'x'.repeat(4000) } });
    const tooLarge = await send(gateway.graphqlUrl, padded);
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.text).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    // Malformed JSON the hit path read first still gets body-parser's answer.
    const malformed = await send(gateway.graphqlUrl, '{"query": ');
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.text).errors[0].extensions.code).toBe('BAD_REQUEST');
    // A simple content type is Apollo's CSRF prevention's to refuse, cached query or not.
    const simple = await send(gateway.graphqlUrl, JSON.stringify({ query }), { 'content-type': 'text/plain' });
    expect(simple.status).toBe(400);
    // A batch goes through the normal path and is never copied.
    const fills = stats(gateway).fills;
    for (let i = 0; i < 3; i++) {
      const batch = await send(gateway.graphqlUrl, JSON.stringify([{ query }, { query }]));
      expect(batch.status).toBe(200);
      expect(JSON.parse(batch.text)).toHaveLength(2);
    }
    expect(stats(gateway).fills).toBe(fills);
  });

  it('is absent when GATEWAY_CACHE_HIT_PATH=false', async () => {
    const gateway = await gatewayWith({ GATEWAY_CACHE_HIT_PATH: 'false' });
    expect(gateway.hitPath).toBeUndefined();
  });
});
