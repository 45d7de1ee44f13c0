import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, generateSigningKey, generateSubgraphKeys, signAccessToken, toJwks } from '@commerce/platform';
import { loadJwtKeys, loadSubgraphAccessKeys, type JwtKeyConfig } from '../src/keys.ts';

const base: JwtKeyConfig = { production: false, dataDir: '/nonexistent', issuer: 'commerce-graph', audience: 'commerce-graph' };
const settings = { issuer: base.issuer, audience: base.audience };
const userId = '3f1b2c4d-0000-4000-8000-000000000001';
const current = generateSigningKey('2026-11');
const previous = generateSigningKey('2026-05');

describe('JWT keys from configuration', () => {
  it('signs with JWT_PRIVATE_KEY and keeps verifying keys listed in JWT_PUBLIC_KEYS (rotation)', async () => {
    const keys = loadJwtKeys({
      ...base,
      privateKeyPem: current.privateKeyPem,
      keyId: current.kid,
      publicKeys: JSON.stringify(toJwks([previous])),
    });
    expect(keys.signingKey?.kid).toBe('2026-11');
    expect((await keys.verificationKeys()).map((key) => key.kid)).toEqual(['2026-11', '2026-05']);
    const oldToken = signAccessToken(previous, { sub: userId, role: 'CUSTOMER' }, settings);
    const newToken = signAccessToken(keys.signingKey!, { sub: userId, role: 'ADMIN' }, settings);
    await expect(keys.authenticate(`Bearer ${oldToken}`)).resolves.toEqual({ userId, role: 'CUSTOMER' });
    await expect(keys.authenticate(`Bearer ${newToken}`)).resolves.toEqual({ userId, role: 'ADMIN' });

    // Once the old key is removed from JWT_PUBLIC_KEYS its tokens are refused.
    const afterRotation = loadJwtKeys({ ...base, privateKeyPem: current.privateKeyPem, keyId: current.kid });
    await expect(afterRotation.authenticate(`Bearer ${oldToken}`)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('accepts JWT_PUBLIC_KEYS as an array of {kid, publicKeyPem}', async () => {
    const keys = loadJwtKeys({
      ...base,
      production: true,
      publicKeys: JSON.stringify([{ kid: previous.kid, publicKeyPem: previous.publicKeyPem }]),
    });
    expect(keys.signingKey).toBeUndefined();
    const token = signAccessToken(previous, { sub: userId, role: 'CUSTOMER' }, settings);
    await expect(keys.authenticate(`Bearer ${token}`)).resolves.toEqual({ userId, role: 'CUSTOMER' });
  });

  it.each([
    ['not JSON', 'nope'],
    ['a key that is not PEM', JSON.stringify([{ kid: 'x', publicKeyPem: 'nope' }])],
    ['a key without kid', JSON.stringify([{ publicKeyPem: previous.publicKeyPem }])],
  ])('names JWT_PUBLIC_KEYS when it holds %s', (_case, publicKeys) => {
    expect(() => loadJwtKeys({ ...base, publicKeys })).toThrow(ConfigError);
    expect(() => loadJwtKeys({ ...base, publicKeys })).toThrow(/JWT_PUBLIC_KEYS/);
  });

  it('names JWT_PRIVATE_KEY when it is not an RSA private key, and JWT_KEY_ID when missing', () => {
    expect(() => loadJwtKeys({ ...base, privateKeyPem: 'nope', keyId: 'k' })).toThrow(/JWT_PRIVATE_KEY/);
    expect(() => loadJwtKeys({ ...base, privateKeyPem: current.privateKeyPem })).toThrow(/JWT_KEY_ID/);
  });

  it('never generates a key in production', () => {
    expect(() => loadJwtKeys({ ...base, production: true })).toThrow(ConfigError);
  });

  it('generates one dev key pair in development and reuses it across restarts', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'jwt-keys-'));
    try {
      const first = loadJwtKeys({ ...base, dataDir });
      const second = loadJwtKeys({ ...base, dataDir });
      expect(first.signingKey?.kid).toBe('dev-1');
      expect(second.signingKey?.publicKeyPem).toBe(first.signingKey?.publicKeyPem);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('subgraph access keys from configuration', () => {
  const refusal = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return error instanceof ConfigError ? error.message : `not a ConfigError: ${String(error)}`;
    }
    return 'accepted';
  };

  it('reads the keyring from SUBGRAPH_AUTH_KEYS: the first key signs, all are accepted', () => {
    const keys = `${generateSubgraphKeys('2027-01')},${generateSubgraphKeys('2026-12')}`;
    const keyring = loadSubgraphAccessKeys({ production: true, dataDir: '/nonexistent', keys });
    expect(keyring.signing.kid).toBe('2027-01');
    expect(keyring.accepted.map((key) => key.kid)).toEqual(['2027-01', '2026-12']);
  });

  it('refuses to start in production without SUBGRAPH_AUTH_KEYS, or with a weak one, naming the variable', () => {
    expect(refusal(() => loadSubgraphAccessKeys({ production: true, dataDir: '/nonexistent' }))).toMatch(
      /^SUBGRAPH_AUTH_KEYS: required in production/,
    );
    expect(refusal(() => loadSubgraphAccessKeys({ production: true, dataDir: '/nonexistent', keys: 'key-1:CHANGE_ME' }))).toMatch(
      /^SUBGRAPH_AUTH_KEYS: the secret of key "key-1" must be at least 32 random bytes/,
    );
  });

  it('outside production shares one development keyring per data folder (mode 600)', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'subgraph-keys-'));
    try {
      const first = loadSubgraphAccessKeys({ production: false, dataDir });
      const again = loadSubgraphAccessKeys({ production: false, dataDir });
      expect(again.signing.secret.equals(first.signing.secret)).toBe(true);
      expect(statSync(path.join(dataDir, 'keys', 'subgraph-auth-dev-keys')).mode & 0o777).toBe(0o600);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
