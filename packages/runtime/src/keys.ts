import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ConfigError,
  createJwtAuthenticator,
  fromJwks,
  generateSigningKey,
  generateSubgraphKeys,
  parseSubgraphKeyring,
  SUBGRAPH_KEYS_VARIABLE,
  type SubgraphKeyring,
  type Authenticator,
  type JwtSettings,
  type SigningKey,
  type VerificationKey,
} from '@commerce/platform';

export interface JwtKeyConfig {
  production: boolean;
  dataDir: string;
  issuer: string;
  audience: string;
  /** PEM private key the users service signs with (full mode). */
  privateKeyPem?: string;
  keyId?: string;
  /** JSON: a JWKS document or an array of {kid, publicKeyPem}; lets verifiers work without calling users. */
  publicKeys?: string;
  /** The users service's JWKS endpoint; fetched and refreshed when an unknown kid shows up (rotation). */
  jwksUrl?: string;
  /** Longest token lifetime (`exp - iat`) verification accepts; the platform's default when absent. */
  maxLifetimeSeconds?: number;
}

export interface JwtKeys {
  settings: JwtSettings;
  signingKey: SigningKey | undefined;
  verificationKeys(): Promise<VerificationKey[]>;
  authenticate: Authenticator;
}

function parsePublicKeys(json: string): VerificationKey[] {
  let keys: VerificationKey[];
  try {
    const value = JSON.parse(json) as unknown;
    keys = Array.isArray(value) ? (value as VerificationKey[]) : fromJwks(value as { keys?: { kid?: string; kty?: string }[] });
    // Check every key now: a bad one would otherwise surface later as every token being refused.
    for (const key of keys) {
      if (typeof key.kid !== 'string' || key.kid === '' || createPublicKey(key.publicKeyPem).asymmetricKeyType !== 'rsa')
        throw new Error('not an RSA public key');
    }
  } catch {
    throw new ConfigError([
      {
        variable: 'JWT_PUBLIC_KEYS',
        problem: 'must be a JWKS document or a JSON array of {kid, publicKeyPem} with RSA public keys',
      },
    ]);
  }
  return keys;
}

function publicHalf(privateKeyPem: string): string {
  try {
    const key = createPrivateKey(privateKeyPem);
    if (key.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    return createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    throw new ConfigError([{ variable: 'JWT_PRIVATE_KEY', problem: 'must be an RSA private key in PEM format (RS256)' }]);
  }
}

/** Embedded mode only: one dev key pair kept under the data folder so tokens survive restarts. */
function devSigningKey(dataDir: string): SigningKey {
  const file = path.join(dataDir, 'keys', 'jwt-dev-key.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as SigningKey;
  const key = generateSigningKey('dev-1');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  return key;
}

export function loadJwtKeys(config: JwtKeyConfig): JwtKeys {
  const settings = { issuer: config.issuer, audience: config.audience, maxLifetimeSeconds: config.maxLifetimeSeconds };
  let signingKey: SigningKey | undefined;
  if (config.privateKeyPem) {
    if (!config.keyId) throw new ConfigError([{ variable: 'JWT_KEY_ID', problem: 'required with JWT_PRIVATE_KEY' }]);
    signingKey = { kid: config.keyId, privateKeyPem: config.privateKeyPem, publicKeyPem: publicHalf(config.privateKeyPem) };
  }
  const staticKeys = config.publicKeys ? parsePublicKeys(config.publicKeys) : [];
  if (!signingKey && staticKeys.length === 0 && !config.jwksUrl) {
    if (config.production) {
      throw new ConfigError([
        { variable: 'JWT_PUBLIC_KEYS', problem: 'production needs JWT_PUBLIC_KEYS, JWT_JWKS_URL or JWT_PRIVATE_KEY' },
      ]);
    }
    signingKey = devSigningKey(config.dataDir);
  }

  let fetched: VerificationKey[] = [];
  let lastFetch = 0;
  const refresh = async () => {
    if (!config.jwksUrl || Date.now() - lastFetch < 10_000) return;
    lastFetch = Date.now();
    try {
      const response = await fetch(config.jwksUrl, { signal: AbortSignal.timeout(3000) });
      if (response.ok) fetched = fromJwks((await response.json()) as { keys?: { kid?: string; kty?: string }[] });
    } catch {
      // Keep the keys we have; an unknown kid is then refused as UNAUTHENTICATED.
    }
  };
  const verificationKeys = async () => [...(signingKey ? [signingKey] : []), ...staticKeys, ...fetched];
  return {
    settings,
    signingKey,
    verificationKeys,
    authenticate: createJwtAuthenticator(settings, async (kid) => {
      // An unknown kid may be a freshly rotated key: refetch the JWKS (at most every 10 s).
      if (config.jwksUrl && !fetched.some((key) => key.kid === kid)) await refresh();
      return verificationKeys();
    }),
  };
}

export interface SubgraphAccessConfig {
  production: boolean;
  dataDir: string;
  /** SUBGRAPH_AUTH_KEYS: `kid:secret[,kid:secret…]`, the first one signs. */
  keys?: string;
}

/**
 * The keyring of the subgraph access tokens, the same for the gateway and every subgraph. Production
 * refuses to start without SUBGRAPH_AUTH_KEYS; embedded mode hands every service one generated in
 * memory; a service started on its own outside production shares a development keyring with the
 * other processes on its data folder (like the JWT dev key).
 */
export function loadSubgraphAccessKeys(config: SubgraphAccessConfig): SubgraphKeyring {
  if (config.keys?.trim()) return parseSubgraphKeyring(config.keys);
  if (config.production) {
    throw new ConfigError([
      {
        variable: SUBGRAPH_KEYS_VARIABLE,
        problem: 'required in production: the keyring of the tokens the gateway presents to the subgraphs (docs/operations.md)',
      },
    ]);
  }
  const file = path.join(config.dataDir, 'keys', 'subgraph-auth-dev-keys');
  if (existsSync(file)) return parseSubgraphKeyring(readFileSync(file, 'utf8'));
  const keys = generateSubgraphKeys('dev-1');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, keys, { mode: 0o600 });
  return parseSubgraphKeyring(keys);
}
