import { createHash } from 'node:crypto';
import {
  createRateLimiter,
  isRateLimiterRes,
  retryAfterSeconds,
  type RateLimiterAbstract,
  type RateLimiterRes,
  type RateLimiterStore,
} from '@commerce/platform';
import type { LoginAttemptKeys, LoginAttemptVerdict, LoginLimit, LoginThrottle } from '../../ports/security.ts';

export interface LoginThrottleSettings {
  /** Attempts at one account from one client address per window; a success resets the count. */
  maxAttemptsPerAccount: number;
  /** Attempts per client address per window, over all accounts; successes do not count. */
  maxAttemptsPerIp: number;
  windowSeconds: number;
  /**
   * Longest wait the account's pace imposes (seconds). Once an account has had `maxAttemptsPerAccount`
   * failures from all addresses together, addresses that already failed on it get one attempt per 1, 2, 4 …
   * seconds, up to this.
   */
  maxDelaySeconds: number;
  /** Start of every counter key (default `users:`); the limiter adds `login:account-ip:`, `login:ip:`, … */
  redisPrefix?: string;
}

/** Effectively unlimited: the failure counter only counts, it never refuses by itself. */
const COUNT_ONLY = 1_000_000_000;

/**
 * Login throttling on the shared limiter factory: in memory by default, in Redis (shared by every users
 * instance) when a client is given. Nothing here locks an account: a stranger's failures lock only the
 * stranger's address (per address, and per account from that address). The account as a whole is only
 * paced, briefly, and only for addresses that have failed on it — so the owner from a clean address gets in,
 * and a botnet still gets one attempt per address plus one per short delay.
 */
export class RateLimitedLoginThrottle implements LoginThrottle {
  private readonly perAccountAndIp: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;
  private readonly accountFailures: RateLimiterAbstract;
  private readonly accountPace: RateLimiterAbstract;

  constructor(
    private readonly settings: LoginThrottleSettings,
    store: RateLimiterStore = {},
  ) {
    const window = settings.windowSeconds;
    const prefix = settings.redisPrefix ?? 'users:';
    this.perAccountAndIp = createRateLimiter(
      { keyPrefix: `${prefix}login:account-ip`, points: settings.maxAttemptsPerAccount, durationSeconds: window },
      store,
    );
    this.perIp = createRateLimiter(
      { keyPrefix: `${prefix}login:ip`, points: settings.maxAttemptsPerIp, durationSeconds: window },
      store,
    );
    this.accountFailures = createRateLimiter(
      { keyPrefix: `${prefix}login:account-failures`, points: COUNT_ONLY, durationSeconds: window },
      store,
    );
    // One paced attempt per key at a time; each consume names its own delay.
    this.accountPace = createRateLimiter(
      { keyPrefix: `${prefix}login:account-pace`, points: 1, durationSeconds: settings.maxDelaySeconds },
      store,
    );
  }

  async beginAttempt(keys: LoginAttemptKeys): Promise<LoginAttemptVerdict> {
    const account = accountKey(keys.account);
    const taken: [RateLimiterAbstract, string, LoginLimit][] = [
      [this.perAccountAndIp, pairKey(account, keys.ip), 'account_and_address'],
    ];
    if (keys.ip) taken.push([this.perIp, keys.ip, 'address']);
    const results = await Promise.allSettled(taken.map(([limiter, key]) => limiter.consume(key)));
    const refused = results.flatMap((result, index) =>
      result.status === 'rejected' ? [{ reason: result.reason as unknown, index }] : [],
    );
    if (refused.length > 0) {
      // Give back the points this refused attempt took, so a blocked address cannot run up another count.
      await this.giveBack(taken, results);
      const nonLimit = refused.find(({ reason }) => !isRateLimiterRes(reason));
      if (nonLimit) throw nonLimit.reason;
      const worst = refused.reduce((a, b) => (msBefore(b.reason) > msBefore(a.reason) ? b : a));
      return {
        allowed: false,
        limit: taken[worst.index]![2],
        retryAfterSeconds: retryAfterSeconds(worst.reason as RateLimiterRes),
      };
    }

    // An address with no attempt at this account yet (this is its first) is never paced: that is the owner's way in.
    const pair = results[0] as PromiseFulfilledResult<RateLimiterRes>;
    if (pair.value.consumedPoints <= 1) return { allowed: true };
    const delay = this.delaySecondsFor((await this.accountFailures.get(account))?.consumedPoints ?? 0);
    if (delay === 0) return { allowed: true };
    try {
      await this.accountPace.consume(account, 1, { customDuration: delay });
      return { allowed: true };
    } catch (error) {
      if (!isRateLimiterRes(error)) throw error;
      await this.giveBack(taken, results);
      return { allowed: false, limit: 'account_pace', retryAfterSeconds: retryAfterSeconds(error) };
    }
  }

  async attemptFailed(keys: LoginAttemptKeys): Promise<void> {
    await this.accountFailures.penalty(accountKey(keys.account));
  }

  async attemptSucceeded(keys: LoginAttemptKeys): Promise<void> {
    const account = accountKey(keys.account);
    await Promise.all([
      this.perAccountAndIp.delete(pairKey(account, keys.ip)),
      this.accountFailures.delete(account),
      this.accountPace.delete(account),
      keys.ip ? this.perIp.reward(keys.ip) : undefined,
    ]);
  }

  /** 0 below the threshold, then 1, 2, 4 … seconds per further failure, never more than the configured maximum. */
  private delaySecondsFor(failures: number): number {
    const over = failures - this.settings.maxAttemptsPerAccount;
    if (over < 0) return 0;
    return Math.min(this.settings.maxDelaySeconds, 2 ** Math.min(over, 30));
  }

  private async giveBack(taken: [RateLimiterAbstract, string, LoginLimit][], results: PromiseSettledResult<unknown>[]) {
    await Promise.allSettled(
      taken.map(([limiter, key], index) => (results[index]!.status === 'fulfilled' ? limiter.reward(key) : undefined)),
    );
  }
}

const msBefore = (reason: unknown) => (isRateLimiterRes(reason) ? reason.msBeforeNext : 0);

/** Counters are keyed by a digest: bounded key length, and no email addresses in Redis. */
export function accountKey(account: string): string {
  return createHash('sha256').update(account, 'utf8').digest('base64url');
}

/** Callers without a known address share one slot per account (in practice the gateway always names the client). */
const pairKey = (account: string, ip: string | undefined) => `${account}:${ip ?? 'unknown'}`;
