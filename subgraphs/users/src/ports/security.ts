import type { Role } from '../domain/user.ts';

/** Memory-hard password hashing. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-time comparison inside; false (never an error) for a wrong password or a malformed hash. */
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** True when the hash was made with weaker parameters than today's and should be replaced at next login. */
  needsRehash(passwordHash: string): boolean;
  /** Spends the time of a real verification, so an unknown email answers as slowly as a wrong password. */
  verifyAgainstDummy(password: string): Promise<void>;
}

export interface IssuedAccessToken {
  token: string;
  expiresAt: Date;
}

/** Signs the short-lived access tokens every service verifies. */
export interface AccessTokenIssuer {
  issue(claims: { userId: string; role: Role }): IssuedAccessToken;
}

/** Opaque refresh tokens: random secrets that are stored only as a fingerprint. */
export interface RefreshTokenSecrets {
  generate(): { token: string; tokenHash: string };
  fingerprint(token: string): string;
}

export interface LoginAttemptKeys {
  /** The normalized email tried (known or not: unknown accounts are throttled alike). */
  account: string;
  ip: string | undefined;
}

/**
 * Which limit refused an attempt: the client address (guesses over many accounts), the account from this
 * address, or the account's pace (many failures from everywhere slow down every address that has not logged
 * in to the account before).
 */
export type LoginLimit = 'address' | 'account_and_address' | 'account_pace';

export type LoginAttemptVerdict = { allowed: true } | { allowed: false; limit: LoginLimit; retryAfterSeconds: number };

/**
 * Throttles password guessing without letting a stranger lock the owner out: hard limits per client address
 * and per (account, address); per account only a short, bounded delay shared by every address that has not
 * logged in to it before — the owner from a known address is never held back by others' failures, from a
 * new address at most by the maximum delay.
 */
export interface LoginThrottle {
  /** Counts an attempt before the password is checked (atomically, so parallel guesses cannot slip through). */
  beginAttempt(keys: LoginAttemptKeys): Promise<LoginAttemptVerdict>;
  /** A wrong password: counts against the account's pace. */
  attemptFailed(keys: LoginAttemptKeys): Promise<void>;
  /** A correct password: the attempt is given back and the address becomes known for this account. */
  attemptSucceeded(keys: LoginAttemptKeys): Promise<void>;
}
