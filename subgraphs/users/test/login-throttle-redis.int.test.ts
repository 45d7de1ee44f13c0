/** Two users instances behind one Redis share login counters (what scale-out needs). */
import { randomBytes } from 'node:crypto';
import { createTestDatabase, describeWithServers, type TestDatabase } from '@commerce/testkit';
import { errorCode, LOGIN, register, startUsersService, uniqueEmail, type UsersHarness } from './support/users-service.ts';

describeWithServers(['TEST_DATABASE_URL', 'TEST_REDIS_URL'], 'login throttling shared through Redis', () => {
  let database: TestDatabase;
  let first: UsersHarness;
  let second: UsersHarness;

  beforeAll(async () => {
    database = await createTestDatabase('users_throttle');
    const env = { REDIS_URL: process.env.TEST_REDIS_URL!, USERS_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '4' };
    first = await startUsersService({ databaseUrl: database.url, env });
    second = await startUsersService({ databaseUrl: database.url, env });
  }, 120_000);

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await database?.drop();
  });

  it('counts failures on either instance against the same account', async () => {
    // Unique per run: Redis counters outlive the test databases.
    const email = uniqueEmail(`redis-${randomBytes(4).toString('hex')}`);
    await register(first.gql, email);
    const attempt = (instance: UsersHarness, password: string) =>
      instance.gql(LOGIN, { email, password }, { 'x-forwarded-for': `198.51.100.${Math.floor(Math.random() * 250) + 1}` });
    for (const instance of [first, second, first, second])
      expect(errorCode(await attempt(instance, 'wrong guess here'))).toBe('UNAUTHENTICATED');
    const blocked = await attempt(first, 'a perfectly fine passphrase');
    expect(blocked.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    expect(errorCode(await attempt(second, 'a perfectly fine passphrase'))).toBe('RATE_LIMITED');
  });
});
