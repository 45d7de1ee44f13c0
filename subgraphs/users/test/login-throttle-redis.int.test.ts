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
    const env = {
      REDIS_URL: process.env.TEST_REDIS_URL!,
      USERS_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '4',
      USERS_LOGIN_MAX_DELAY_SECONDS: '4',
    };
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

  const randomIp = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
  const attempt = (instance: UsersHarness, email: string, password: string, ip = randomIp()) =>
    instance.gql(LOGIN, { email, password }, { 'x-forwarded-for': ip });

  it('counts failures from one address on either instance against the same account', async () => {
    const email = uniqueEmail(`redis-${randomBytes(4).toString('hex')}`);
    await register(first.gql, email);
    const ip = '198.51.100.7';
    for (const instance of [first, second, first, second])
      expect(errorCode(await attempt(instance, email, 'wrong guess here', ip))).toBe('UNAUTHENTICATED');
    const blocked = await attempt(first, email, 'a perfectly fine passphrase', ip);
    expect(blocked.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    expect(errorCode(await attempt(second, email, 'a perfectly fine passphrase', ip))).toBe('RATE_LIMITED');
    // The owner from another address is not locked out by that address's failures.
    expect((await attempt(second, email, 'a perfectly fine passphrase', '198.51.100.8')).body.errors).toBeUndefined();
  });

  it("shares the account's pace: fresh addresses on both instances are paced as one, the owner's known address is not", async () => {
    const email = uniqueEmail(`redis-pace-${randomBytes(4).toString('hex')}`);
    await register(first.gql, email);
    // The owner logs in on the first instance; the second knows that address too.
    const home = '203.0.113.20';
    expect((await attempt(first, email, 'a perfectly fine passphrase', home)).body.errors).toBeUndefined();
    // Four fresh addresses fail, alternating instances; then eight more at once over both instances: the
    // account's pace lets one through (one more per second that passes, if logins are slow under load).
    for (let index = 0; index < 4; index++)
      expect(errorCode(await attempt(index % 2 ? second : first, email, 'wrong guess here', `203.0.113.${30 + index}`))).toBe(
        'UNAUTHENTICATED',
      );
    const started = Date.now();
    const burst = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        attempt(index % 2 ? second : first, email, 'wrong guess here', `203.0.113.${40 + index}`),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    const codes = burst.map(errorCode);
    console.log(`8 fresh addresses at once over two instances (${seconds.toFixed(1)} s): ${JSON.stringify(codes)}`);
    const through = codes.filter((code) => code === 'UNAUTHENTICATED').length;
    expect(through).toBeLessThanOrEqual(1 + Math.floor(seconds));
    for (const response of burst.filter((each) => errorCode(each) !== 'UNAUTHENTICATED')) {
      expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      expect(response.body.errors![0]!.extensions!.retryAfter).toBeLessThanOrEqual(4);
    }
    // The owner's address, known on both instances through Redis, is not paced.
    expect((await attempt(second, email, 'a perfectly fine passphrase', home)).body.errors).toBeUndefined();
    const account = createHash('sha256').update(email, 'utf8').digest('base64url');
    expect(await redis.ttl(`${prefix}login:known:${account}:${home}`)).toBeGreaterThan(29 * 24 * 3600);
  });

  it('keeps its counters under USERS_REDIS_PREFIX: an instance on another prefix counts apart', async () => {
    const email = uniqueEmail(`redis-prefix-${randomBytes(4).toString('hex')}`);
    await register(first.gql, email);
    const ip = '198.51.100.9';
    for (let i = 0; i < 4; i++) expect(errorCode(await attempt(first, email, 'wrong guess here', ip))).toBe('UNAUTHENTICATED');
    expect(errorCode(await attempt(second, email, 'a perfectly fine passphrase', ip))).toBe('RATE_LIMITED');
    // Same Redis, same account, same address, another prefix (another environment): its own, untouched budget.
    const allowed = await attempt(otherEnvironment, email, 'a perfectly fine passphrase', ip);
    expect(allowed.body.errors).toBeUndefined();
    // The counters (keyed by a digest of the email) live under the prefix only.
    const account = createHash('sha256').update(email, 'utf8').digest('base64url');
    expect(await redis.exists(`${prefix}login:account-ip:${account}:${ip}`)).toBe(1);
    expect(await redis.exists(`${prefix}login:account-failures:${account}`)).toBe(1);
    expect(await redis.exists(`users:login:account-ip:${account}:${ip}`)).toBe(0);
    expect(await redis.keys(`${prefix}login:ip:*`)).not.toHaveLength(0);
  });
});
