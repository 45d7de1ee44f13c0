import { Redis } from 'ioredis';
import type { Logger } from '@commerce/platform';

/**
 * The gateway's Redis connection (response cache, APQ, rate-limit counters). Commands fail fast while
 * Redis is down — no offline queue, short timeouts — so callers fall back (cache miss, local rate
 * limits) instead of hanging; ioredis keeps reconnecting in the background.
 */
export async function connectRedis(url: string, logger: Logger, waitMs = 3000): Promise<Redis> {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let lastWarning = 0;
  redis.on('error', (error: Error) => {
    if (Date.now() - lastWarning < 30_000) return;
    lastWarning = Date.now();
    logger.warn({ err: { name: error.name, message: error.message } }, 'redis unavailable; using local fallbacks');
  });
  redis.on('ready', () => logger.info('redis connected'));
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (!ready) logger.warn('redis did not answer at start; the gateway serves with local fallbacks meanwhile');
  return redis;
}
