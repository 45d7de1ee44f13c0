import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { ConfigError } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { loadSubgraphSchema } from '../src/subgraph-schema.ts';
import { startSubgraphServer, type RunningServer } from '../src/subgraph-server.ts';
import {
  createSubgraphTokenSigner,
  createSubgraphTokenVerifier,
  generateSubgraphKeys,
  parseSubgraphKeyring,
  SUBGRAPH_TOKEN_HEADER,
  SUBGRAPH_TOKEN_REQUIRED,
} from '../src/subgraph-access.ts';

const keys = generateSubgraphKeys('k1');
const keyring = parseSubgraphKeyring(keys);
const secretOf = (value: string) => Buffer.from(value.slice(value.indexOf(':') + 1), 'base64');

describe('subgraph access tokens', () => {
  it('accepts a token the signer minted for this subgraph, and only for it', () => {
    const signer = createSubgraphTokenSigner(keyring, 'gateway');
    const verifyUsers = createSubgraphTokenVerifier(keyring, 'users');
    expect(verifyUsers(signer.tokenFor('users'))).toEqual({ ok: true, issuer: 'gateway' });
    expect(verifyUsers(signer.tokenFor('catalog'))).toEqual({ ok: false, reason: 'wrong audience' });
    expect(verifyUsers(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(verifyUsers('not.a.token')).toMatchObject({ ok: false });
  });

  it('refuses a token signed with another key, with alg none, or living longer than two minutes', () => {
    const verify = createSubgraphTokenVerifier(keyring, 'users');
    const other = parseSubgraphKeyring(generateSubgraphKeys('k1'));
    expect(verify(createSubgraphTokenSigner(other, 'gateway').tokenFor('users'))).toEqual({
      ok: false,
      reason: 'bad signature or claims',
    });
    const now = Math.floor(Date.now() / 1000);
    const unsigned = jwt.sign({ iss: 'gateway', aud: 'users', iat: now, exp: now + 60 }, '', { algorithm: 'none', keyid: 'k1' });
    expect(verify(unsigned)).toEqual({ ok: false, reason: 'malformed' });
    const longLived = jwt.sign({ iss: 'gateway', aud: 'users', iat: now, exp: now + 3600 }, secretOf(keys), {
      algorithm: 'HS256',
      keyid: 'k1',
    });
    expect(verify(longLived)).toEqual({ ok: false, reason: 'lifetime too long' });
  });

  it('reuses one token until it nears expiry, and refuses it once expired (also from the verified cache)', () => {
    let now = Date.now();
    const signer = createSubgraphTokenSigner(keyring, 'gateway', { now: () => now });
    const verify = createSubgraphTokenVerifier(keyring, 'users', { now: () => now });
    const first = signer.tokenFor('users');
    expect(verify(first).ok).toBe(true);
    now += 30_000;
    expect(signer.tokenFor('users')).toBe(first);
    now += 15_000; // 45 s: within the last 20 s of its life, a new one is minted
    const second = signer.tokenFor('users');
    expect(second).not.toBe(first);
    now += 40_000; // the first is 85 s old: expired (60 s + 5 s tolerance), though verified before
    expect(verify(first)).toEqual({ ok: false, reason: 'expired' });
    expect(verify(second).ok).toBe(true);
  });

  it('accepts every key of the keyring and signs with the first (rotation)', () => {
    const next = generateSubgraphKeys('k2');
    const rotated = parseSubgraphKeyring(`${next},${keys}`);
    const verify = createSubgraphTokenVerifier(rotated, 'users');
    expect(verify(createSubgraphTokenSigner(keyring, 'gateway').tokenFor('users')).ok).toBe(true);
    const fresh = createSubgraphTokenSigner(rotated, 'gateway').tokenFor('users');
    expect(jwt.decode(fresh, { complete: true })?.header.kid).toBe('k2');
    expect(createSubgraphTokenVerifier(keyring, 'users')(fresh)).toEqual({ ok: false, reason: 'unknown kid' });
  });

  it('refuses a weak or malformed keyring, naming the variable and never the secret', () => {
    for (const value of ['', 'k1', 'k1:short', 'k1:%%%%', `${keys},${keys}`]) {
      let error: unknown;
      try {
        parseSubgraphKeyring(value);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(/^SUBGRAPH_AUTH_KEYS: /);
      expect((error as ConfigError).message).not.toContain(keys.slice(3));
    }
  });
});

describe('a subgraph server answers valid subgraph tokens only', () => {
  let server: RunningServer;
  let base: string;
  let executions = 0;

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sdl-'));
    writeFileSync(
      path.join(dir, 'schema.graphql'),
      `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
       type Query { hello: String! }`,
    );
    server = await startSubgraphServer({
      name: 'users',
      port: 0,
      host: '127.0.0.1',
      schema: loadSubgraphSchema(pathToFileURL(path.join(dir, 'schema.graphql')), {
        Query: { hello: () => `world ${++executions}` },
      }),
      logger: createLogger({ service: 'users', level: 'silent' }),
      authenticate: async () => null,
      context: (context) => context,
      accessKeys: keyring,
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.stop());

  it('refuses a call without a token, or with one for another subgraph, with 401 and no execution', async () => {
    const catalogToken = createSubgraphTokenSigner(keyring, 'gateway').tokenFor('catalog');
    for (const token of [undefined, catalogToken, 'garbage']) {
      const call = request(base).post('/graphql');
      if (token) call.set(SUBGRAPH_TOKEN_HEADER, token);
      const response = await call.send({ query: '{ hello _service { sdl } }' });
      expect(response.status).toBe(401);
      expect(response.body.errors[0].extensions.code).toBe(SUBGRAPH_TOKEN_REQUIRED);
      expect(response.body.data).toBeUndefined();
    }
    expect(executions).toBe(0);
    // GET queries are refused the same way.
    expect((await request(base).get('/graphql').query({ query: '{ hello }' })).status).toBe(401);
    expect(executions).toBe(0);
  });

  it('checks the token before the body is read: a malformed or oversized body without one is a 401, not a parse error', async () => {
    const malformed = await request(base).post('/graphql').set('content-type', 'application/json').send('{"query": ');
    expect(malformed.status).toBe(401);
    const huge = await request(base)
      .post('/graphql')
      .send({ query: '{ hello }', padding: 'x'.repeat(2_000_000) })
      .catch((error: { response?: { status: number } }) => error.response ?? { status: 0 });
    // 401 (or the connection closed before the whole upload was sent): never 413 from a parsed body.
    expect([401, 0]).toContain(huge.status);
  });

  it('answers a call carrying a valid token', async () => {
    const response = await request(base)
      .post('/graphql')
      .set(SUBGRAPH_TOKEN_HEADER, createSubgraphTokenSigner(keyring, 'gateway').tokenFor('users'))
      .send({ query: '{ hello }' });
    expect(response.status).toBe(200);
    expect(response.body.data.hello).toMatch(/^world/);
  });
});
