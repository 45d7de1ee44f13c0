import { generateSigningKey, signAccessToken, type JwtSettings, type Role, type SigningKey } from '@commerce/platform';

export const TEST_JWT_SETTINGS: JwtSettings = { issuer: 'commerce-graph', audience: 'commerce-graph' };

let sharedKey: SigningKey | undefined;

/** One RSA key per test process (generation is slow); pass its public half to the services under test. */
export function testSigningKey(): SigningKey {
  sharedKey ??= generateSigningKey('test-key');
  return sharedKey;
}

export function bearer(userId: string, role: Role = 'CUSTOMER', key = testSigningKey()): string {
  return `Bearer ${signAccessToken(key, { sub: userId, role }, TEST_JWT_SETTINGS)}`;
}

/** Environment that makes services verify (and users sign) with the test key. */
export function testJwtEnv(key = testSigningKey()): Record<string, string> {
  return {
    JWT_ISSUER: TEST_JWT_SETTINGS.issuer,
    JWT_AUDIENCE: TEST_JWT_SETTINGS.audience,
    JWT_PRIVATE_KEY: key.privateKeyPem,
    JWT_KEY_ID: key.kid,
  };
}
