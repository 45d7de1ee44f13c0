/** Two users instances behind one Redis share login counters (what scale-out needs), under their key prefix. */
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTestDatabase, describeWithServers, type TestDatabase } from '@commerce/testkit';
import { errorCode, LOGIN, register, startUsersService, uniqueEmail, type UsersHarness } from './support/users-service.ts';

describeWithServers(['TEST_DATABASE_URL', 'TEST_REDIS_URL'], 'login throttling shared through Redis', () => {
  // Unique per run: Redis counters outlive the test databases.
  const prefix = `test-users-${randomBytes(4).toString('hex')}:`;
  const otherPrefix = `test-users-${randomBytes(4).toString('hex')}:`;
  let database: TestDatabase;
  let first: UsersHarness;
  let second: UsersHarness;
  let otherEnvironment: UsersHarness;
  let redis: Redis;

  beforeAll(async () => {
    database = await createTestDatabase('users_throttle');
    const env = { REDIS_URL: process.env.TEST_REDIS_URL!, USERS_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '4' };
    first = await startUsersService({ databaseUrl: database.url, env: { ...env, USERS_REDIS_PREFIX: prefix } });
    second = await startUsersService({ databaseUrl: database.url, env: { ...env, USERS_REDIS_PREFIX: prefix } });
    otherEnvironment = await startUsersService({ databaseUrl: database.url, env: { ...env, USERS_REDIS_PREFIX: otherPrefix } });
    redis = new Redis(process.env.TEST_REDIS_URL!);
  }, 120_000);

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await otherEnvironment?.stop();
    if (redis) {
      for (const each of [prefix, otherPrefix]) {
        const keys = await redis.keys(`${each}*`);
        if (keys.length > 0) await redis.del(...keys);
      }
      redis.disconnect();
    }
    await database?.drop();
  });

  const attempt = (instance: UsersHarness, email: string, password: string) =>
    instance.gql(LOGIN, { email, password }, { 'x-forwarded-for': `198.51.100.${Math.floor(Math.random() * 250) + 1}` });

  it('counts failures on either instance against the same account', async () => {
    const email = uniqueEmail(`redis-${randomBytes(4).toString('hex')}`);
    await register(first.gql, email);
    for (const instance of [first, second, first, second])
      expect(errorCode(await attempt(instance, email, 'wrong guess here'))).toBe('UNAUTHENTICATED');
    const blocked = await attempt(first, email, 'a perfectly fine passphrase');
    expect(blocked.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    expect(errorCode(await attempt(second, email, 'a perfectly fine passphrase'))).toBe('RATE_LIMITED');
  });

  it('keeps its counters under USERS_REDIS_PREFIX: an instance on another prefix counts apart', async () => {
    const email = uniqueEmail(`redis-prefix-${randomBytes(4).toString('hex')}`);
    await register(first.gql, email);
    for (let i = 0; i < 4; i++) expect(errorCode(await attempt(first, email, 'wrong guess here'))).toBe('UNAUTHENTICATED');
    expect(errorCode(await attempt(second, email, 'a perfectly fine passphrase'))).toBe('RATE_LIMITED');
    // Same Redis, same account, another prefix (another environment): its own, untouched budget.
    const allowed = await attempt(otherEnvironment, email, 'a perfectly fine passphrase');
    expect(allowed.body.errors).toBeUndefined();
    // The account's counter (keyed by a digest of the email) lives under the prefix only.
    const account = createHash('sha256').update(email, 'utf8').digest('base64url');
    expect(await redis.exists(`${prefix}login:account:${account}`)).toBe(1);
    expect(await redis.exists(`users:login:account:${account}`)).toBe(0);
    expect(await redis.keys(`${prefix}login:ip:*`)).not.toHaveLength(0);
  });
});
