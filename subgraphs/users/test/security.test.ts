/**
 * Token security at the users subgraph's own HTTP endpoint (subgraphs verify forwarded tokens
 * themselves), the JWKS endpoint, and key rotation.
 */
import { createJwtAuthenticator, fromJwks, generateSigningKey, signAccessToken, toJwks } from '@commerce/platform';
import { bearer, forgedTokens, TEST_JWT_SETTINGS } from '@commerce/testkit';
import { auth, LOGIN, register, startUsersService, uniqueEmail, type UsersHarness } from './support/users-service.ts';

const previousKey = generateSigningKey('previous-key');
let users: UsersHarness;

beforeAll(async () => {
  // Signs with the test key; still trusts the key it used before the last rotation.
  users = await startUsersService({ env: { JWT_PUBLIC_KEYS: JSON.stringify(toJwks([previousKey])) } });
}, 60_000);

afterAll(async () => {
  await users?.stop();
});

const ME = '{ me { id email role } }';

describe('forged and invalid tokens at the subgraph endpoint', () => {
  const forged = forgedTokens();

  it('accepts a genuine token (so the refusals below are about the forgery)', async () => {
    const response = await users.gql(ME, {}, { authorization: bearer('3f1b2c4d-0000-4000-8000-000000000001', 'ADMIN') });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { me: null } });
  });

  it.each(Object.keys(forged))('refuses %s with HTTP 401 and UNAUTHENTICATED', async (name) => {
    const response = await users.gql(ME, {}, { authorization: `Bearer ${forged[name]}` });
    expect(response.status).toBe(401);
    expect(response.body.data ?? null).toBeNull();
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('never lets a forged ADMIN token reach admin data', async () => {
    const response = await users.gql('{ users(first: 1) { totalCount } }', {}, { authorization: `Bearer ${forged['alg none']}` });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.body.data ?? null).toBeNull();
  });
});

describe('JWKS endpoint and key rotation', () => {
  it('publishes the signing key and the still-trusted previous key, public halves only', async () => {
    const response = await fetch(`${users.origin}/.well-known/jwks.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const jwks = (await response.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys.map((key) => key.kid)).toEqual(['test-key', 'previous-key']);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(Object.keys(key).filter((field) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(field))).toEqual([]);
    }
  });

  it('issues tokens any service can verify from the published JWKS alone', async () => {
    const email = uniqueEmail('jwks');
    const registered = await register(users.gql, email);
    const login = await users.gql<{ login: { accessToken: string } }>(LOGIN, { email, password: 'a perfectly fine passphrase' });
    const jwks = await (await fetch(`${users.origin}/.well-known/jwks.json`)).json();
    const verifier = createJwtAuthenticator(TEST_JWT_SETTINGS, () => fromJwks(jwks as never));
    await expect(verifier(`Bearer ${login.body.data!.login.accessToken}`)).resolves.toEqual({
      userId: registered.user.id,
      role: 'CUSTOMER',
    });
  });

  it('still accepts tokens signed with the previous key while it is listed', async () => {
    const registered = await register(users.gql);
    const oldToken = signAccessToken(previousKey, { sub: registered.user.id, role: 'CUSTOMER' }, TEST_JWT_SETTINGS);
    const response = await users.gql(ME, {}, auth(oldToken));
    expect(response.body).toEqual({ data: { me: { id: registered.user.id, email: registered.user.email, role: 'CUSTOMER' } } });
  });
});
