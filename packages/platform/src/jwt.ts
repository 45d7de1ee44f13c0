import { generateKeyPairSync, createPublicKey, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Authenticator, Role, Viewer } from './auth.ts';
import { unauthenticated } from './errors.ts';

/** Tokens are signed asymmetrically; the algorithm is pinned so `none` or HS256-with-public-key never verify. */
export const JWT_ALGORITHM = 'RS256' as const;

export interface JwtSettings {
  issuer: string;
  audience: string;
  /** Longest accepted `exp - iat` (default DEFAULT_MAX_TOKEN_LIFETIME_SECONDS); a verifier setting. */
  maxLifetimeSeconds?: number;
}

/**
 * A day: far above the access tokens users mints (15 minutes, at most an hour; refresh tokens are
 * opaque, not JWTs), far below "forever" — a leaked long-lived token stays a bounded risk.
 */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600;

/** Allowed skew between the issuer's clock and ours. */
const CLOCK_TOLERANCE_SECONDS = 5;

export interface VerificationKey {
  kid: string;
  publicKeyPem: string;
}

export interface SigningKey extends VerificationKey {
  privateKeyPem: string;
}

export interface AccessTokenClaims {
  sub: string;
  role: Role;
}

/** A fresh RSA key pair (embedded mode's dev keys, tests). */
export function generateSigningKey(kid: string = randomUUID()): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function signAccessToken(
  key: SigningKey,
  claims: AccessTokenClaims,
  settings: JwtSettings,
  expiresInSeconds = 900,
): string {
  return jwt.sign({ role: claims.role }, key.privateKeyPem, {
    algorithm: JWT_ALGORITHM,
    keyid: key.kid,
    subject: claims.sub,
    issuer: settings.issuer,
    audience: settings.audience,
    expiresIn: expiresInSeconds,
  });
}

/** Public keys as a JWKS document (`/.well-known/jwks.json`). */
export function toJwks(keys: VerificationKey[]) {
  return {
    keys: keys.map((key) => ({
      ...createPublicKey(key.publicKeyPem).export({ format: 'jwk' }),
      kid: key.kid,
      alg: JWT_ALGORITHM,
      use: 'sig',
    })),
  };
}

export function fromJwks(document: { keys?: { kid?: string; kty?: string }[] }): VerificationKey[] {
  return (document.keys ?? [])
    .filter((jwk): jwk is { kid: string; kty: string } => typeof jwk.kid === 'string' && jwk.kty === 'RSA')
    .map((jwk) => ({
      kid: jwk.kid,
      publicKeyPem: createPublicKey({ key: jwk as unknown as JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString(),
    }));
}

const ROLES = new Set<Role>(['CUSTOMER', 'ADMIN']);

/** Parsing a PEM per request cost 2–3% of a service's CPU; the few verification keys are parsed once. */
const parsedPublicKeys = new Map<string, KeyObject>();
function publicKeyObject(pem: string): KeyObject {
  let key = parsedPublicKeys.get(pem);
  if (!key) {
    if (parsedPublicKeys.size >= 64) parsedPublicKeys.clear();
    key = createPublicKey(pem);
    parsedPublicKeys.set(pem, key);
  }
  return key;
}

/**
 * Verifies `Authorization: Bearer <jwt>`: signature by a known `kid`, RS256 only, iss and aud, and a
 * bounded life: `exp` and `iat` are required (jsonwebtoken alone accepts a token without `exp` for ever),
 * `iat` not in the future, `exp - iat` at most `maxLifetimeSeconds`.
 * No header → anonymous (null); any other problem → UNAUTHENTICATED, never a silent downgrade.
 */
export function createJwtAuthenticator(
  settings: JwtSettings,
  keys: (kid: string) => VerificationKey[] | Promise<VerificationKey[]>,
): Authenticator {
  const maxLifetime = settings.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS;
  return async (header) => {
    if (header === undefined || header === '') return null;
    const match = /^Bearer ([\w-]+\.[\w-]+\.[\w-]*)$/.exec(header);
    if (!match) throw unauthenticated('Authorization header must be "Bearer <token>"');
    const token = match[1]!;
    const decoded = jwt.decode(token, { complete: true });
    const kid = decoded?.header.kid;
    if (!decoded || decoded.header.alg !== JWT_ALGORITHM || typeof kid !== 'string') throw unauthenticated('Invalid token');
    const key = (await keys(kid)).find((candidate) => candidate.kid === kid);
    if (!key) throw unauthenticated('Invalid token');
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, publicKeyObject(key.publicKeyPem), {
        algorithms: [JWT_ALGORITHM],
        issuer: settings.issuer,
        audience: settings.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }) as jwt.JwtPayload;
    } catch (error) {
      throw unauthenticated(error instanceof jwt.TokenExpiredError ? 'Token expired' : 'Invalid token');
    }
    const { exp, iat } = payload;
    if (typeof exp !== 'number' || typeof iat !== 'number' || !Number.isFinite(exp) || !Number.isFinite(iat))
      throw unauthenticated('Invalid token');
    if (iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS || exp - iat > maxLifetime) throw unauthenticated('Invalid token');
    const role = payload.role as Role;
    if (typeof payload.sub !== 'string' || !ROLES.has(role)) throw unauthenticated('Invalid token');
    const viewer: Viewer = { userId: payload.sub, role };
    return viewer;
  };
}
