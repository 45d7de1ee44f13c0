import {
  createSubgraphTokenSigner,
  generateSigningKey,
  generateSubgraphKeys,
  parseSubgraphKeyring,
  signAccessToken,
  type JwtSettings,
  type Role,
  type SigningKey,
  type SubgraphTokenSigner,
} from '@commerce/platform';

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

let sharedSubgraphKeys: string | undefined;
let sharedSubgraphSigner: SubgraphTokenSigner | undefined;

/** One SUBGRAPH_AUTH_KEYS keyring per test process, shared by the gateway and subgraphs under test. */
export function testSubgraphKeys(): string {
  sharedSubgraphKeys ??= generateSubgraphKeys('test');
  return sharedSubgraphKeys;
}

/**
 * The headers a test (or benchmark) needs to call a subgraph directly, as the gateway does: a subgraph
 * access token for `subgraph`, signed with the test keyring (`testJwtEnv` gives the services that keyring).
 */
export function subgraphAccessHeaders(subgraph: string): Record<string, string> {
  sharedSubgraphSigner ??= createSubgraphTokenSigner(parseSubgraphKeyring(testSubgraphKeys()), 'test');
  return sharedSubgraphSigner.headersFor(subgraph);
}

/** Environment that makes services verify (and users sign) with the test key, and share the test subgraph keyring. */
export function testJwtEnv(key = testSigningKey()): Record<string, string> {
  return {
    JWT_ISSUER: TEST_JWT_SETTINGS.issuer,
    JWT_AUDIENCE: TEST_JWT_SETTINGS.audience,
    JWT_PRIVATE_KEY: key.privateKeyPem,
    JWT_KEY_ID: key.kid,
    SUBGRAPH_AUTH_KEYS: testSubgraphKeys(),
  };
}
