import { createHmac, sign } from 'node:crypto';
import { generateSigningKey, type JwtSettings, type SigningKey } from '@commerce/platform';
import { TEST_JWT_SETTINGS, testSigningKey } from './tokens.ts';

const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Builds a compact JWT by hand, so tests can make tokens no well-behaved library would sign. */
export function craftToken(header: object, payload: object, signer: (signingInput: string) => string): string {
  const signingInput = `${encode(header)}.${encode(payload)}`;
  return `${signingInput}.${signer(signingInput)}`;
}

const rsaSigner =
  (privateKeyPem: string, hash = 'sha256') =>
  (input: string) =>
    sign(hash, Buffer.from(input), privateKeyPem).toString('base64url');

/**
 * Tokens every verifier must refuse with UNAUTHENTICATED, each named for its attack. All carry an
 * otherwise well-formed ADMIN claim set, so acceptance would be a privilege escalation.
 */
export function forgedTokens(
  options: { key?: SigningKey; settings?: JwtSettings; userId?: string } = {},
): Record<string, string> {
  const key = options.key ?? testSigningKey();
  const settings = options.settings ?? TEST_JWT_SETTINGS;
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: options.userId ?? '00000000-0000-4000-8000-000000000000',
    role: 'ADMIN',
    iss: settings.issuer,
    aud: settings.audience,
    iat: now,
    exp: now + 600,
  };
  const rs256 = { alg: 'RS256', typ: 'JWT', kid: key.kid };
  const stranger = generateSigningKey('unknown-kid');
  const valid = craftToken(rs256, { ...claims, role: 'CUSTOMER' }, rsaSigner(key.privateKeyPem));
  const [validHeader, , validSignature] = valid.split('.');
  return {
    'alg none': craftToken({ alg: 'none', typ: 'JWT', kid: key.kid }, claims, () => ''),
    'alg none with a signature': craftToken({ alg: 'none', typ: 'JWT', kid: key.kid }, claims, rsaSigner(key.privateKeyPem)),
    'HS256 signed with the public key as secret': craftToken({ alg: 'HS256', typ: 'JWT', kid: key.kid }, claims, (input) =>
      createHmac('sha256', key.publicKeyPem).update(input).digest('base64url'),
    ),
    'RS512 instead of the pinned RS256': craftToken({ ...rs256, alg: 'RS512' }, claims, rsaSigner(key.privateKeyPem, 'sha512')),
    'wrong audience': craftToken(rs256, { ...claims, aud: 'someone-else' }, rsaSigner(key.privateKeyPem)),
    'wrong issuer': craftToken(rs256, { ...claims, iss: 'https://evil.example' }, rsaSigner(key.privateKeyPem)),
    expired: craftToken(rs256, { ...claims, iat: now - 7200, exp: now - 3600 }, rsaSigner(key.privateKeyPem)),
    'tampered payload (role raised to ADMIN)': `${validHeader}.${encode(claims)}.${validSignature}`,
    'unknown kid': craftToken({ ...rs256, kid: 'unknown-kid' }, claims, rsaSigner(stranger.privateKeyPem)),
    'a foreign key claiming the known kid': craftToken(rs256, claims, rsaSigner(stranger.privateKeyPem)),
    'no kid': craftToken({ alg: 'RS256', typ: 'JWT' }, claims, rsaSigner(key.privateKeyPem)),
    'unknown role': craftToken(rs256, { ...claims, role: 'SUPERUSER' }, rsaSigner(key.privateKeyPem)),
    'no subject': craftToken(rs256, { ...claims, sub: undefined }, rsaSigner(key.privateKeyPem)),
    'no expiry (valid for ever)': craftToken(rs256, { ...claims, exp: undefined }, rsaSigner(key.privateKeyPem)),
    'no issued-at': craftToken(rs256, { ...claims, iat: undefined }, rsaSigner(key.privateKeyPem)),
    'a lifetime of ten years': craftToken(rs256, { ...claims, exp: now + 10 * 365 * 24 * 3600 }, rsaSigner(key.privateKeyPem)),
    'issued in the future': craftToken(rs256, { ...claims, iat: now + 3600, exp: now + 4200 }, rsaSigner(key.privateKeyPem)),
    garbage: 'not-a-jwt',
  };
}
