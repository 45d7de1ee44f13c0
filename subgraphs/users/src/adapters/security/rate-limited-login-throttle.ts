import { createHash } from 'node:crypto';
import {
  createRateLimiter,
  isRateLimiterRes,
  rateLimited,
  retryAfterSeconds,
  type RateLimiterAbstract,
  type RateLimiterStore,
} from '@commerce/platform';
import type { LoginAttemptKeys, LoginThrottle } from '../../ports/security.ts';

export interface LoginThrottleSettings {
  /** Attempts per account (email) per window; a success resets the count. */
  maxAttemptsPerAccount: number;
  /** Attempts per client address per window; successes do not count. */
  maxAttemptsPerIp: number;
  windowSeconds: number;
  /** Start of every counter key (default `users:`); the limiter adds `login:account:` or `login:ip:`. */
  redisPrefix?: string;
}

/**
 * Login throttling on the shared limiter factory: in memory by default, in Redis (shared by every users
 * instance) when a client is given. An attempt takes a point from both keys before the password is checked,
 * so parallel guesses cannot slip through between a check and a count.
 */
export class RateLimitedLoginThrottle implements LoginThrottle {
  private readonly perAccount: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;

  constructor(settings: LoginThrottleSettings, store: RateLimiterStore = {}) {
    const window = settings.windowSeconds;
    const prefix = settings.redisPrefix ?? 'users:';
    this.perAccount = createRateLimiter(
      { keyPrefix: `${prefix}login:account`, points: settings.maxAttemptsPerAccount, durationSeconds: window },
      store,
    );
    this.perIp = createRateLimiter(
      { keyPrefix: `${prefix}login:ip`, points: settings.maxAttemptsPerIp, durationSeconds: window },
      store,
    );
  }

  async beginAttempt(keys: LoginAttemptKeys): Promise<void> {
    const taken = this.limitersFor(keys);
    const results = await Promise.allSettled(taken.map(([limiter, key]) => limiter.consume(key)));
    const refused = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (refused.length === 0) return;
    // Give back the points this refused attempt took, so a blocked address cannot run up a victim's account count.
    await Promise.allSettled(
      taken.map(([limiter, key], index) => (results[index]!.status === 'fulfilled' ? limiter.reward(key) : undefined)),
    );
    const limits = refused.map((result) => result.reason as unknown);
    const nonLimit = limits.find((reason) => !isRateLimiterRes(reason));
    if (nonLimit) throw nonLimit;
    const retryAfter = Math.max(...limits.map((reason) => retryAfterSeconds(reason as { msBeforeNext: number })));
    throw rateLimited(retryAfter, 'Too many login attempts, try again later');
  }

  async attemptSucceeded(keys: LoginAttemptKeys): Promise<void> {
    await this.perAccount.delete(accountKey(keys.account));
    if (keys.ip) await this.perIp.reward(keys.ip);
  }

  private limitersFor(keys: LoginAttemptKeys): [RateLimiterAbstract, string][] {
    const account: [RateLimiterAbstract, string] = [this.perAccount, accountKey(keys.account)];
    return keys.ip ? [account, [this.perIp, keys.ip]] : [account];
  }
}

/** Counters are keyed by a digest: bounded key length, and no email addresses in Redis. */
function accountKey(account: string): string {
  return createHash('sha256').update(account, 'utf8').digest('base64url');
}
