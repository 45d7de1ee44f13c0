import { createRateLimiter, isRateLimiterRes, rateLimited, retryAfterSeconds } from '../src/rate-limit.ts';

describe('shared rate limiter factory (in memory)', () => {
  it('allows `points` per window and then refuses with the time left', async () => {
    const limiter = createRateLimiter({ keyPrefix: 'test', points: 2, durationSeconds: 60 });
    await limiter.consume('k');
    await limiter.consume('k');
    const refusal: unknown = await limiter.consume('k').catch((reason: unknown) => reason);
    expect(isRateLimiterRes(refusal)).toBe(true);
    const seconds = retryAfterSeconds(refusal as { msBeforeNext: number });
    expect(seconds).toBeGreaterThan(55);
    expect(seconds).toBeLessThanOrEqual(60);
    await expect(limiter.consume('other')).resolves.toBeDefined();
  });

  it('rounds the retry delay up to whole seconds, at least one', () => {
    expect(retryAfterSeconds({ msBeforeNext: 1 })).toBe(1);
    expect(retryAfterSeconds({ msBeforeNext: 1001 })).toBe(2);
    expect(retryAfterSeconds({ msBeforeNext: -5 })).toBe(1);
  });

  it('builds RATE_LIMITED errors carrying retryAfter', () => {
    expect(rateLimited(7)).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfter: 7 } });
  });
});
