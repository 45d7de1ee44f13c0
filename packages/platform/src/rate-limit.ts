import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import { DomainError } from './errors.ts';

export { RateLimiterRes, type RateLimiterAbstract };

/** One limit: `points` per `durationSeconds` window for each key, counters namespaced by `keyPrefix`. */
export interface RateLimitPolicy {
  keyPrefix: string;
  points: number;
  durationSeconds: number;
  /** Once a key has used its points, keep it blocked this long (default: until the window ends). */
  blockDurationSeconds?: number;
}

export interface RateLimiterStore {
  /** Shared counters across instances; without it counters live in this process only. */
  redis?: Redis;
}

/**
 * The one place services build rate limiters (gateway request limits, users login throttling): Redis-backed
 * when a client is given — with an in-memory insurance limiter so a Redis outage degrades to per-instance
 * limits instead of failing requests — and in-memory otherwise.
 */
export function createRateLimiter(policy: RateLimitPolicy, store: RateLimiterStore = {}): RateLimiterAbstract {
  const options = {
    keyPrefix: policy.keyPrefix,
    points: policy.points,
    duration: policy.durationSeconds,
    blockDuration: policy.blockDurationSeconds ?? 0,
  };
  if (!store.redis) return new RateLimiterMemory(options);
  return new RateLimiterRedis({ ...options, storeClient: store.redis, insuranceLimiter: new RateLimiterMemory(options) });
}

/** A rejection from a limiter (as opposed to a store failure). */
export function isRateLimiterRes(value: unknown): value is RateLimiterRes {
  return value instanceof RateLimiterRes;
}

/** Whole seconds until a limited key may try again (at least 1). */
export function retryAfterSeconds(result: Pick<RateLimiterRes, 'msBeforeNext'>): number {
  return Math.max(1, Math.ceil(result.msBeforeNext / 1000));
}

/** `RATE_LIMITED` with `extensions.retryAfter` in seconds. */
export function rateLimited(retryAfter: number, message = 'Too many attempts, try again later'): DomainError {
  return new DomainError('RATE_LIMITED', message, { retryAfter });
}
