import { createHash } from 'node:crypto';
import { rateLimited } from '@commerce/platform';
import type { LoginAttemptKeys, LoginAttemptVerdict } from '../ports/security.ts';
import type { Caller } from './dependencies.ts';

/**
 * How logs name the account a login tried: a short SHA-256 digest of the normalized email, never the email.
 * Typed emails are often not emails at all (people paste a password into the wrong box), and unknown ones
 * are personal data of nobody we know; the digest still lets an operator follow one account's attempts over
 * many addresses (and matches the start of its Redis counter keys).
 */
export function accountRef(email: string): string {
  return createHash('sha256').update(email, 'utf8').digest('base64url').slice(0, 16);
}

/** Log fields every failed or refused attempt carries: the client address and the pseudonymous account. */
export const attemptFields = (keys: LoginAttemptKeys) => ({ clientIp: keys.ip ?? null, account: accountRef(keys.account) });

/** Throws RATE_LIMITED (and logs which limit, for whom) when the throttle refused the attempt. */
export function enforceVerdict(caller: Caller, keys: LoginAttemptKeys, verdict: LoginAttemptVerdict, action: string): void {
  if (verdict.allowed) return;
  caller.log.warn(
    { ...attemptFields(keys), action, limit: verdict.limit, retryAfter: verdict.retryAfterSeconds },
    `${action} refused: too many attempts`,
  );
  throw rateLimited(verdict.retryAfterSeconds, 'Too many login attempts, try again later');
}
