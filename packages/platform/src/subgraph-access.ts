/**
 * Subgraphs answer the gateway only (docs/gateway.md, "Subgraph access tokens"). Every call to a
 * subgraph carries a short-lived JWT (RFC 7519, HS256 per RFC 7515/7518) in its own header, next to the
 * client's `Authorization`, which travels on unchanged:
 *
 *   x-subgraph-token: <jwt>   header {alg: HS256, kid}   claims {iss: caller, aud: subgraph, iat, exp ≤ iat + 60 s}
 *
 * The key is a shared secret from one keyring variable (`SUBGRAPH_AUTH_KEYS`, several keys by `kid` for
 * rotation, the first one signs). A subgraph checks the token before the body is read and answers 401
 * without any GraphQL work when it is missing, forged, expired, for another subgraph or too long-lived.
 */
import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import jwt from 'jsonwebtoken';
import { ConfigError } from './config.ts';
import type { Logger } from './logger.ts';

export const SUBGRAPH_TOKEN_HEADER = 'x-subgraph-token';
export const SUBGRAPH_KEYS_VARIABLE = 'SUBGRAPH_AUTH_KEYS';
/** `extensions.code` of the 401 a subgraph answers to a call without a valid token. */
export const SUBGRAPH_TOKEN_REQUIRED = 'SUBGRAPH_TOKEN_REQUIRED';
const ALGORITHM = 'HS256' as const;
/** Clocks of the gateway's and the subgraphs' hosts may differ by this much. */
const CLOCK_TOLERANCE_SECONDS = 5;
/** 256-bit secrets: HS256's own strength; shorter ones are refused at start. */
const MIN_SECRET_BYTES = 32;

export interface SubgraphKey {
  kid: string;
  secret: Buffer;
}

export interface SubgraphKeyring {
  /** The first key of the variable: new tokens are signed with it. */
  signing: SubgraphKey;
  /** Every key of the variable: a token signed with any of them is accepted (rotation). */
  accepted: SubgraphKey[];
}

/**
 * Parses `kid:secret[,kid:secret…]` (secret: base64 or base64url of at least 32 random bytes).
 * Errors name the variable only — never a secret.
 */
export function parseSubgraphKeyring(value: string, variable = SUBGRAPH_KEYS_VARIABLE): SubgraphKeyring {
  const problem = (text: string) => new ConfigError([{ variable, problem: text }]);
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw problem('must list at least one key as kid:secret');
  const accepted = entries.map((entry, index) => {
    const separator = entry.indexOf(':');
    const kid = entry.slice(0, separator);
    const encoded = entry.slice(separator + 1);
    if (separator <= 0 || !/^[\w.-]+$/.test(kid))
      throw problem(`key ${index + 1} must be kid:secret with a kid of letters, digits, ._-`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw problem(`the secret of key "${kid}" must be base64 or base64url`);
    const secret = Buffer.from(encoded, 'base64');
    if (secret.length < MIN_SECRET_BYTES)
      throw problem(`the secret of key "${kid}" must be at least ${MIN_SECRET_BYTES} random bytes`);
    return { kid, secret };
  });
  if (new Set(accepted.map((key) => key.kid)).size !== accepted.length) throw problem('every key needs its own kid');
  return { signing: accepted[0]!, accepted };
}

/** A fresh one-key keyring value (embedded mode; `openssl rand -base64 32` does the same for operators). */
export function generateSubgraphKeys(kid = 'embedded'): string {
  return `${kid}:${randomBytes(MIN_SECRET_BYTES).toString('base64url')}`;
}

export interface SubgraphTokenSigner {
  /** A valid token for calls to `audience` (a subgraph's name): reused until it nears expiry. */
  tokenFor(audience: string): string;
  /** `{ 'x-subgraph-token': tokenFor(audience) }`. */
  headersFor(audience: string): Record<string, string>;
}

export interface SignerOptions {
  /** Lifetime of a token (default 60 s). */
  lifetimeSeconds?: number;
  /** A token is replaced this long before it expires (default 20 s), so one in flight never arrives stale. */
  renewBeforeSeconds?: number;
  now?: () => number;
}

/** Mints tokens once per audience and lifetime: the caller's hot path pays a map lookup, not a signature. */
export function createSubgraphTokenSigner(
  keyring: SubgraphKeyring,
  issuer: string,
  { lifetimeSeconds = 60, renewBeforeSeconds = 20, now = Date.now }: SignerOptions = {},
): SubgraphTokenSigner {
  const current = new Map<string, { token: string; renewAt: number }>();
  const tokenFor = (audience: string) => {
    const at = now();
    const cached = current.get(audience);
    if (cached && at < cached.renewAt) return cached.token;
    const issuedAt = Math.floor(at / 1000);
    const token = jwt.sign(
      { iss: issuer, aud: audience, iat: issuedAt, exp: issuedAt + lifetimeSeconds },
      keyring.signing.secret,
      {
        algorithm: ALGORITHM,
        keyid: keyring.signing.kid,
      },
    );
    current.set(audience, { token, renewAt: (issuedAt + lifetimeSeconds - renewBeforeSeconds) * 1000 });
    return token;
  };
  return { tokenFor, headersFor: (audience) => ({ [SUBGRAPH_TOKEN_HEADER]: tokenFor(audience) }) };
}

export type SubgraphTokenCheck = { ok: true; issuer: string } | { ok: false; reason: string };

export interface VerifierOptions {
  /** Longest lifetime (exp − iat) accepted (default 120 s): a leaked token is worth minutes at most. */
  maxLifetimeSeconds?: number;
  /** Verified tokens remembered until they expire (default 256; the gateway sends a handful per minute). */
  cacheSize?: number;
  now?: () => number;
}

/** Checks a token for the subgraph `audience`; a token already verified costs one map lookup. */
export function createSubgraphTokenVerifier(
  keyring: SubgraphKeyring,
  audience: string,
  { maxLifetimeSeconds = 120, cacheSize = 256, now = Date.now }: VerifierOptions = {},
): (token: string | undefined) => SubgraphTokenCheck {
  const verified = new Map<string, { expiresAt: number; issuer: string }>();
  return (token) => {
    if (!token) return { ok: false, reason: 'missing' };
    const at = now();
    const known = verified.get(token);
    if (known) {
      if (at < known.expiresAt) return { ok: true, issuer: known.issuer };
      verified.delete(token);
      return { ok: false, reason: 'expired' };
    }
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || decoded.header.alg !== ALGORITHM) return { ok: false, reason: 'malformed' };
    const key = keyring.accepted.find((candidate) => candidate.kid === decoded.header.kid);
    if (!key) return { ok: false, reason: 'unknown kid' };
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, key.secret, {
        algorithms: [ALGORITHM],
        audience,
        clockTimestamp: Math.floor(at / 1000),
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }) as jwt.JwtPayload;
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) return { ok: false, reason: 'expired' };
      return { ok: false, reason: /audience/.test((error as Error).message) ? 'wrong audience' : 'bad signature or claims' };
    }
    const { iss, iat, exp } = claims;
    if (typeof iss !== 'string' || typeof iat !== 'number' || typeof exp !== 'number')
      return { ok: false, reason: 'missing claims' };
    if (exp - iat > maxLifetimeSeconds || iat > at / 1000 + CLOCK_TOLERANCE_SECONDS)
      return { ok: false, reason: 'lifetime too long' };
    if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
    verified.set(token, { expiresAt: (exp + CLOCK_TOLERANCE_SECONDS) * 1000, issuer: iss });
    return { ok: true, issuer: iss };
  };
}

/**
 * Express middleware ahead of the body parser: a call without a valid token is answered 401 before its
 * body is read, so nothing of it is parsed, validated or executed. Refusals are logged at most once per
 * reason every 10 s (a scanner cannot flood the logs), never with the token.
 */
export function requireSubgraphToken(verify: (token: string | undefined) => SubgraphTokenCheck, logger: Logger): RequestHandler {
  const lastLogged = new Map<string, { at: number; suppressed: number }>();
  return (req, res, next) => {
    const header = req.headers[SUBGRAPH_TOKEN_HEADER];
    const check = verify(Array.isArray(header) ? undefined : header);
    if (check.ok) {
      next();
      return;
    }
    const seen = lastLogged.get(check.reason);
    if (!seen || Date.now() - seen.at >= 10_000) {
      logger.warn(
        { reason: check.reason, clientIp: req.ip, suppressed: seen?.suppressed ?? 0, requestId: req.context?.requestId },
        'subgraph call refused: no valid subgraph token',
      );
      lastLogged.set(check.reason, { at: Date.now(), suppressed: 0 });
    } else {
      seen.suppressed++;
    }
    // The body is left unread; closing the connection keeps a large upload from being drained into memory.
    res.setHeader('connection', 'close');
    res.status(401).json({
      errors: [
        {
          message: 'This service answers the gateway only',
          extensions: { code: SUBGRAPH_TOKEN_REQUIRED, requestId: req.context?.requestId },
        },
      ],
    });
  };
}
