/** Login throttling per account and per client address, at the users subgraph (low limits for the test). */
import {
  errorCode,
  LOGIN,
  register,
  startUsersService,
  uniqueEmail,
  type GraphQLResponse,
  type UsersHarness,
} from './support/users-service.ts';

const PASSWORD = 'a perfectly fine passphrase';
let users: UsersHarness;

beforeAll(async () => {
  users = await startUsersService({
    env: { USERS_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: '3', USERS_LOGIN_MAX_ATTEMPTS_PER_IP: '6', USERS_LOGIN_WINDOW_SECONDS: '600' },
  });
}, 60_000);

afterAll(async () => {
  await users?.stop();
});

let ipCounter = 0;
/** Each test speaks from its own address (the users service trusts X-Forwarded-For from loopback, i.e. the gateway). */
const newIp = () => `203.0.113.${++ipCounter}`;
const login = (email: string, password: string, ip: string) => users.gql(LOGIN, { email, password }, { 'x-forwarded-for': ip });

function expectRateLimited(response: GraphQLResponse) {
  expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
  const retryAfter = response.body.errors![0]!.extensions!.retryAfter as number;
  expect(retryAfter).toBeGreaterThan(500);
  expect(retryAfter).toBeLessThanOrEqual(600);
}

describe('login throttling', () => {
  it('blocks an account after repeated failures, even for the right password, from any address', async () => {
    const email = uniqueEmail('victim');
    await register(users.gql, email);
    for (let attempt = 0; attempt < 3; attempt++)
      expect(errorCode(await login(email, 'wrong guess here', newIp()))).toBe('UNAUTHENTICATED');
    expectRateLimited(await login(email, PASSWORD, newIp()));
    // Other accounts are unaffected.
    const other = uniqueEmail('bystander');
    await register(users.gql, other);
    expect((await login(other, PASSWORD, newIp())).body.data?.login).toBeTruthy();
  });

  it('throttles unknown emails the same way (no hint that the account does not exist)', async () => {
    const ghost = uniqueEmail('ghost');
    for (let attempt = 0; attempt < 3; attempt++)
      expect(errorCode(await login(ghost, 'wrong guess here', newIp()))).toBe('UNAUTHENTICATED');
    expectRateLimited(await login(ghost, 'wrong guess here', newIp()));
  });

  it('forgets an account’s failures after a successful login', async () => {
    const email = uniqueEmail('forgetful');
    await register(users.gql, email);
    const ip = newIp();
    for (let attempt = 0; attempt < 2; attempt++) await login(email, 'wrong guess here', ip);
    expect((await login(email, PASSWORD, ip)).body.data?.login).toBeTruthy();
    for (let attempt = 0; attempt < 2; attempt++)
      expect(errorCode(await login(email, 'wrong guess here', ip))).toBe('UNAUTHENTICATED');
    expect((await login(email, PASSWORD, ip)).body.data?.login).toBeTruthy();
  });

  it('blocks an address that sprays guesses over many accounts, but not other addresses', async () => {
    const sprayer = newIp();
    for (let attempt = 0; attempt < 6; attempt++) {
      expect(errorCode(await login(uniqueEmail('spray'), 'wrong guess here', sprayer))).toBe('UNAUTHENTICATED');
    }
    const email = uniqueEmail('spray-target');
    await register(users.gql, email);
    expectRateLimited(await login(email, PASSWORD, sprayer));
    expect((await login(email, PASSWORD, newIp())).body.data?.login).toBeTruthy();
  });

  it('counts concurrent guesses against one account atomically', async () => {
    const email = uniqueEmail('parallel');
    await register(users.gql, email);
    const results = await Promise.all(Array.from({ length: 8 }, () => login(email, 'wrong guess here', newIp())));
    const codes = results.map(errorCode);
    expect(codes.filter((code) => code === 'UNAUTHENTICATED')).toHaveLength(3);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(5);
  });
});
