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
import { MemoryKnownLoginAddresses, RedisKnownLoginAddresses, type KnownLoginAddresses } from './known-login-addresses.ts';

export interface LoginThrottleSettings {
  /** Attempts at one account from one client address per window; a success resets the count. */
  maxAttemptsPerAccount: number;
  /** Attempts per client address per window, over all accounts; successes do not count. */
  maxAttemptsPerIp: number;
  windowSeconds: number;
  /**
   * Longest wait the account's pace imposes (seconds). Once an account has had `maxAttemptsPerAccount`
   * failures from all addresses together, every address that has not logged in to it before shares one
   * attempt per 1, 2, 4 … seconds for the whole account, up to this.
   */
  maxDelaySeconds: number;
  /** How long an address that logged in successfully stays exempt from the account's pace (default 30 days). */
  knownAddressTtlSeconds?: number;
  /** Most (account, address) pairs remembered in process memory (default 100 000; least recently used dropped). */
  maxKnownAddressesInMemory?: number;
  /** Start of every counter key (default `users:`); the limiter adds `login:account-ip:`, `login:ip:`, … */
  redisPrefix?: string;
}

/** Effectively unlimited: the failure counter only counts, it never refuses by itself. */
const COUNT_ONLY = 1_000_000_000;

const THIRTY_DAYS_SECONDS = 30 * 24 * 3600;

/**
 * Login throttling on the shared limiter factory: in memory by default, in Redis (shared by every users
 * instance) when a client is given. Nothing here locks an account: a stranger's failures lock only the
 * stranger's address (per address, and per account from that address). Once the account has many recent
 * failures, it is paced as a whole for every address that has never logged in to it — one attempt per short,
 * bounded delay however many addresses a guesser has — while addresses that have logged in to it before are
 * exempt: the owner from their usual address gets in at once, from a new one within the maximum delay.
 */
export class RateLimitedLoginThrottle implements LoginThrottle {
  private readonly perAccountAndIp: RateLimiterAbstract;
  private readonly perIp: RateLimiterAbstract;
  private readonly accountFailures: RateLimiterAbstract;
  private readonly accountPace: RateLimiterAbstract;
  private readonly knownAddresses: KnownLoginAddresses;

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
    // One paced attempt per account at a time; each consume names its own delay. A refused consume neither
    // frees nor extends the slot.
    this.accountPace = createRateLimiter(
      { keyPrefix: `${prefix}login:account-pace`, points: 1, durationSeconds: settings.maxDelaySeconds },
      store,
    );
    const knownTtl = settings.knownAddressTtlSeconds ?? THIRTY_DAYS_SECONDS;
    const knownMax = settings.maxKnownAddressesInMemory ?? 100_000;
    this.knownAddresses = store.redis
      ? new RedisKnownLoginAddresses(store.redis, `${prefix}login:known`, knownTtl, knownMax)
      : new MemoryKnownLoginAddresses(knownTtl, knownMax);
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

    // Addresses that logged in to this account before are the owner's: never paced by others' failures.
    if (keys.ip && (await this.knownAddresses.isKnown(account, keys.ip))) return { allowed: true };
    // Every other address — its first attempt included, so many addresses buy no extra guesses — shares the
    // account's pace once the account has had many failures.
    const delay = this.delaySecondsFor((await this.accountFailures.get(account))?.consumedPoints ?? 0);
    if (delay === 0) return { allowed: true };
    try {
      await this.accountPace.consume(account, 1, { customDuration: delay });
      return { allowed: true };
    } catch (error) {
      if (!isRateLimiterRes(error)) throw error;
      // A refused attempt is not given back and counts as a failure: hammering the slot costs the guesser its
      // per-address budget and pushes the pace to its maximum, and never frees the slot for its next address.
      await this.accountFailures.penalty(account);
      return { allowed: false, limit: 'account_pace', retryAfterSeconds: retryAfterSeconds(error) };
    }
  }

  async attemptFailed(keys: LoginAttemptKeys): Promise<void> {
    await this.accountFailures.penalty(accountKey(keys.account));
  }

  /**
   * The address becomes known for this account. The account's failures from elsewhere are kept (they are
   * strangers' guesses; forgetting them would hand the guessers a fresh, unpaced run after every owner login).
   */
  async attemptSucceeded(keys: LoginAttemptKeys): Promise<void> {
    const account = accountKey(keys.account);
    await Promise.all([
      this.perAccountAndIp.delete(pairKey(account, keys.ip)),
      keys.ip ? this.perIp.reward(keys.ip) : undefined,
      keys.ip ? this.knownAddresses.remember(account, keys.ip) : undefined,
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
