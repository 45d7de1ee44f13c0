import { forgedTokens } from '@commerce/testkit/forged-tokens';
import { DomainError } from '../src/errors.ts';
import {
  createJwtAuthenticator,
  DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
  fromJwks,
  generateSigningKey,
  signAccessToken,
  toJwks,
  type SigningKey,
} from '../src/jwt.ts';

const settings = { issuer: 'commerce-graph', audience: 'commerce-graph' };
const key: SigningKey = generateSigningKey('key-1');
const authenticate = createJwtAuthenticator(settings, () => [key]);
const userId = '3f1b2c4d-0000-4000-8000-000000000001';

async function refusal(header: string | undefined): Promise<DomainError> {
  try {
    await authenticate(header);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

describe('JWT verification', () => {
  it('turns a valid RS256 token into a typed viewer', async () => {
    const token = signAccessToken(key, { sub: userId, role: 'ADMIN' }, settings);
    await expect(authenticate(`Bearer ${token}`)).resolves.toEqual({ userId, role: 'ADMIN' });
  });

  it('treats a request without Authorization as anonymous', async () => {
    await expect(authenticate(undefined)).resolves.toBeNull();
    await expect(authenticate('')).resolves.toBeNull();
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a.b', 'bearer x.y.z extra'])(
    'refuses the malformed header %p',
    async (header) => {
      expect((await refusal(header)).code).toBe('UNAUTHENTICATED');
    },
  );

  const forged = forgedTokens({ key, settings, userId });
  it.each(Object.keys(forged))('refuses a forged token: %s', async (name) => {
    const error = await refusal(`Bearer ${forged[name]}`);
    expect(error.code).toBe('UNAUTHENTICATED');
  });

  it('says an expired token is expired', async () => {
    const expired = signAccessToken(key, { sub: userId, role: 'CUSTOMER' }, settings, -60);
    expect((await refusal(`Bearer ${expired}`)).message).toBe('Token expired');
  });

  it('bounds a token’s lifetime: a day by default, configurable; the users service’s longest access token fits', async () => {
    const hour = signAccessToken(key, { sub: userId, role: 'CUSTOMER' }, settings, 3600);
    const day = signAccessToken(key, { sub: userId, role: 'CUSTOMER' }, settings, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS);
    const dayAndAMinute = signAccessToken(
      key,
      { sub: userId, role: 'CUSTOMER' },
      settings,
      DEFAULT_MAX_TOKEN_LIFETIME_SECONDS + 60,
    );
    await expect(authenticate(`Bearer ${hour}`)).resolves.toEqual({ userId, role: 'CUSTOMER' });
    await expect(authenticate(`Bearer ${day}`)).resolves.toEqual({ userId, role: 'CUSTOMER' });
    expect((await refusal(`Bearer ${dayAndAMinute}`)).code).toBe('UNAUTHENTICATED');
    const strict = createJwtAuthenticator({ ...settings, maxLifetimeSeconds: 1800 }, () => [key]);
    await expect(strict(`Bearer ${hour}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'Invalid token' });
  });

  it('accepts a token signed by an older key while that key is still listed (rotation)', async () => {
    const oldKey = generateSigningKey('key-0');
    const rotating = createJwtAuthenticator(settings, () => [key, { kid: oldKey.kid, publicKeyPem: oldKey.publicKeyPem }]);
    const oldToken = signAccessToken(oldKey, { sub: userId, role: 'CUSTOMER' }, settings);
    await expect(rotating(`Bearer ${oldToken}`)).resolves.toEqual({ userId, role: 'CUSTOMER' });
    // Removed from the list: the same token is refused.
    await expect(authenticate(`Bearer ${oldToken}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('round-trips public keys through a JWKS document', async () => {
    const jwks = toJwks([key]);
    expect(jwks.keys).toEqual([expect.objectContaining({ kid: 'key-1', kty: 'RSA', alg: 'RS256', use: 'sig' })]);
    expect(JSON.stringify(jwks)).not.toMatch(/"d":|PRIVATE/);
    const fromDocument = createJwtAuthenticator(settings, () => fromJwks(jwks));
    const token = signAccessToken(key, { sub: userId, role: 'CUSTOMER' }, settings);
    await expect(fromDocument(`Bearer ${token}`)).resolves.toEqual({ userId, role: 'CUSTOMER' });
  });
});
