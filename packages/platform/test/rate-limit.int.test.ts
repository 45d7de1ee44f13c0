import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describeWithServers } from '@commerce/testkit/integration';
import { createRateLimiter, isRateLimiterRes } from '../src/rate-limit.ts';

describeWithServers(['TEST_REDIS_URL'], 'shared rate limiter factory on Redis', () => {
  let first: Redis;
  let second: Redis;
  beforeAll(() => {
    first = new Redis(process.env.TEST_REDIS_URL!);
    second = new Redis(process.env.TEST_REDIS_URL!);
  });
  afterAll(async () => {
    await first.quit();
    await second.quit();
  });

  it('shares counters between instances (two clients, one limit)', async () => {
    const keyPrefix = `test:${randomUUID()}`;
    const instanceA = createRateLimiter({ keyPrefix, points: 3, durationSeconds: 30 }, { redis: first });
    const instanceB = createRateLimiter({ keyPrefix, points: 3, durationSeconds: 30 }, { redis: second });
    await instanceA.consume('client');
    await instanceB.consume('client');
    await instanceA.consume('client');
    const refusal: unknown = await instanceB.consume('client').catch((reason: unknown) => reason);
    expect(isRateLimiterRes(refusal)).toBe(true);
    expect(await first.exists(`${keyPrefix}:client`)).toBe(1);
  });
});
