import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import request from 'supertest';
import { createLogger } from '../src/logger.ts';
import { loadSubgraphSchema } from '../src/subgraph-schema.ts';
import { startSubgraphServer, type RunningServer, type SubgraphContextBase } from '../src/subgraph-server.ts';
import { DomainError } from '../src/errors.ts';
import type { Authenticator } from '../src/auth.ts';
import {
  createSubgraphTokenSigner,
  generateSubgraphKeys,
  parseSubgraphKeyring,
  SUBGRAPH_TOKEN_HEADER,
} from '../src/subgraph-access.ts';

const accessKeys = parseSubgraphKeyring(generateSubgraphKeys('k1'));
const gatewayTokens = createSubgraphTokenSigner(accessKeys, 'gateway');

const SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Query { hello: String! slow(ms: Int!): String! broken: String whoami: String refused: String }
`;

describe('subgraph server bootstrap', () => {
  let server: RunningServer;
  let base: string;
  let management: string;
  let isReady = true;
  const authenticate: Authenticator = async (header) => {
    if (!header) return null;
    if (header === 'Bearer good.token.value') return { userId: 'u1', role: 'CUSTOMER' };
    throw new DomainError('UNAUTHENTICATED', 'Invalid token');
  };

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sdl-'));
    writeFileSync(path.join(dir, 'schema.graphql'), SDL);
    const schema = loadSubgraphSchema(pathToFileURL(path.join(dir, 'schema.graphql')), {
      Query: {
        hello: () => 'world',
        slow: async (_: unknown, { ms }: { ms: number }) => {
          await new Promise((resolve) => setTimeout(resolve, ms));
          return 'done';
        },
        broken: () => {
          throw new Error('duplicate key value violates unique constraint "users_email_key"');
        },
        whoami: (_: unknown, __: unknown, context: SubgraphContextBase) => context.viewer?.userId ?? null,
        refused: () => {
          throw new DomainError('BAD_USER_INPUT', 'The cart is empty');
        },
      },
    });
    server = await startSubgraphServer({
      name: 'test',
      port: 0,
      host: '127.0.0.1',
      schema,
      logger: createLogger({ service: 'test', level: 'silent' }),
      authenticate,
      context: (context) => context,
      ready: async () => isReady,
      management: { port: 0, host: '127.0.0.1' },
      accessKeys,
    });
    base = `http://127.0.0.1:${server.port}`;
    management = server.management.url;
  });
  afterAll(() => server.stop());

  it('serves health, readiness and metrics on its management port', async () => {
    expect(server.management.port).not.toBe(server.port);
    await request(management).get('/health').expect(200, { status: 'ok' });
    await request(management).get('/ready').expect(200);
    isReady = false;
    await request(management).get('/ready').expect(503);
    isReady = true;
    await request(base)
      .post('/graphql')
      .set(SUBGRAPH_TOKEN_HEADER, gatewayTokens.tokenFor('test'))
      .send({ query: '{ hello }' })
      .expect(200);
    const metrics = await request(management).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/http_request_duration_seconds_bucket\{.*service="test"/);
  });

  it('answers 404 for health, readiness and metrics on the client-facing port, and no graph on the management one', async () => {
    for (const path of ['/health', '/ready', '/metrics']) {
      const response = await request(base).get(path).expect(404);
      expect(response.text).not.toMatch(/# HELP|"status"/);
    }
    await request(management).post('/graphql').send({ query: '{ hello }' }).expect(404);
  });

  it('counts requests to paths no route matches under one label, so clients cannot mint metric series', async () => {
    for (const path of ['/no-such-page-1', '/no-such-page-2', '/wp-admin.php']) await request(base).get(path).expect(404);
    const metrics = (await request(management).get('/metrics')).text;
    expect(metrics).not.toMatch(/no-such-page|wp-admin/);
    expect(metrics).toMatch(/http_request_duration_seconds_count\{[^}]*route="unmatched"[^}]*status="404"/);
  });

  it('returns a request id header and hides internal errors', async () => {
    const response = await request(base)
      .post('/graphql')
      .set(SUBGRAPH_TOKEN_HEADER, gatewayTokens.tokenFor('test'))
      .set('x-request-id', 'abc-123')
      .send({ query: '{ broken }' });
    expect(response.headers['x-request-id']).toBe('abc-123');
    expect(response.body.errors[0]).toMatchObject({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'abc-123' },
    });
    expect(JSON.stringify(response.body)).not.toMatch(/unique constraint|users_email_key|stack/);
  });

  it('counts GraphQL errors by their real code: domain errors are not server errors', async () => {
    await request(base)
      .post('/graphql')
      .set(SUBGRAPH_TOKEN_HEADER, gatewayTokens.tokenFor('test'))
      .send({ query: '{ refused }' })
      .expect(200);
    await request(base)
      .post('/graphql')
      .set(SUBGRAPH_TOKEN_HEADER, gatewayTokens.tokenFor('test'))
      .send({ query: '{ broken }' })
      .expect(200);
    const metrics = (await request(management).get('/metrics')).text;
    expect(metrics).toMatch(/^graphql_errors_total\{code="BAD_USER_INPUT",service="test"\} 1$/m);
    expect(metrics).toMatch(/^graphql_errors_total\{code="INTERNAL_SERVER_ERROR",service="test"\} [1-9]\d*$/m);
  });

  it('authenticates the forwarded token and refuses a bad one with 401', async () => {
    const ok = await request(base)
      .post('/graphql')
      .set(SUBGRAPH_TOKEN_HEADER, gatewayTokens.tokenFor('test'))
      .set('authorization', 'Bearer good.token.value')
      .send({ query: '{ whoami }' });
    expect(ok.body.data).toEqual({ whoami: 'u1' });
    const bad = await request(base)
      .post('/graphql')
      .set(SUBGRAPH_TOKEN_HEADER, gatewayTokens.tokenFor('test'))
      .set('authorization', 'Bearer forged')
      .send({ query: '{ whoami }' });
    expect(bad.status).toBe(401);
    expect(bad.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('rejects malformed JSON with a client error, not a crash', async () => {
    const response = await request(base)
      .post('/graphql')
      .set(SUBGRAPH_TOKEN_HEADER, gatewayTokens.tokenFor('test'))
      .set('content-type', 'application/json')
      .send('{"query": ');
    expect(response.status).toBe(400);
    expect(response.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(response.text).not.toMatch(/at .*\.js|SyntaxError/);
    const huge = await request(base)
      .post('/graphql')
      .set(SUBGRAPH_TOKEN_HEADER, gatewayTokens.tokenFor('test'))
      .send({ query: `{ hello }`, padding: 'x'.repeat(2_000_000) });
    expect(huge.status).toBe(413);
    expect(huge.body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    await request(management).get('/health').expect(200);
  });
});

describe('graceful shutdown', () => {
  it('lets an in-flight request finish before stopping, unready meanwhile, then closes the management port', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sdl-'));
    writeFileSync(path.join(dir, 'schema.graphql'), SDL);
    const schema = loadSubgraphSchema(pathToFileURL(path.join(dir, 'schema.graphql')), {
      Query: { slow: async () => new Promise((resolve) => setTimeout(() => resolve('done'), 500)) },
    });
    const server = await startSubgraphServer({
      name: 'drain',
      port: 0,
      host: '127.0.0.1',
      schema,
      logger: createLogger({ service: 'drain', level: 'silent' }),
      authenticate: async () => null,
      context: (context) => context,
      accessKeys,
    });
    const inFlight = request(`http://127.0.0.1:${server.port}`)
      .post('/graphql')
      .set(SUBGRAPH_TOKEN_HEADER, gatewayTokens.tokenFor('drain'))
      .send({ query: '{ slow(ms: 500) }' });
    const response = inFlight.then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = server.stop();
    // While requests drain, probes still get answers: alive, but no longer ready for new traffic.
    expect((await fetch(`${server.management.url}/ready`)).status).toBe(503);
    expect((await fetch(`${server.management.url}/health`)).status).toBe(200);
    expect((await response).body).toEqual({ data: { slow: 'done' } });
    await stopped;
    await expect(fetch(`http://127.0.0.1:${server.port}/graphql`)).rejects.toThrow();
    await expect(fetch(`${server.management.url}/health`)).rejects.toThrow();
  });
});
