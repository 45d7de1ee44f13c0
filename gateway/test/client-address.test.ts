/**
 * The gateway passes the client's address on to subgraphs (replacing whatever the caller sent), so the
 * users service throttles failed logins per client, not per gateway — and which proxies may name that
 * address is the gateway's own setting (GATEWAY_TRUST_PROXY): a peer it does not trust cannot.
 */
import { randomUUID } from 'node:crypto';
import { startTestStack, type TestStack } from '@commerce/testkit';

const LOGIN = 'mutation($email: String!) { login(email: $email, password: "not the password") { accessToken } }';
const attempt = (stack: TestStack, forwardedFor: string) =>
  stack.query(LOGIN, { email: `${randomUUID()}@example.test` }, { 'x-forwarded-for': forwardedFor });
const codeOf = async (pending: ReturnType<typeof attempt>) => (await pending).body.errors?.[0]?.extensions?.code;

describe('behind a trusted proxy (the default trusts loopback, where these requests come from)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: { USERS_LOGIN_MAX_ATTEMPTS_PER_IP: '3', GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '1000' },
    });
  }, 180_000);
  afterAll(() => stack?.stop());

  it('throttles failed logins per client address seen by the gateway', async () => {
    for (let i = 0; i < 3; i++) expect(await codeOf(attempt(stack, '203.0.113.7'))).toBe('UNAUTHENTICATED');
    expect(await codeOf(attempt(stack, '203.0.113.7'))).toBe('RATE_LIMITED');
    // Another client behind the same gateway keeps its own budget.
    expect(await codeOf(attempt(stack, '203.0.113.8'))).toBe('UNAUTHENTICATED');
  });

  it('throttles an IPv6 client per /64, so rotating through its network buys nothing (review finding 5)', async () => {
    for (const host of ['1', 'a', 'ffff:1:2'])
      expect(await codeOf(attempt(stack, `2001:db8:77:1::${host}`))).toBe('UNAUTHENTICATED');
    expect(await codeOf(attempt(stack, '2001:db8:77:1:9:9:9:9'))).toBe('RATE_LIMITED');
    expect(await codeOf(attempt(stack, '2001:db8:77:2::1'))).toBe('UNAUTHENTICATED');
  });
});

describe('behind a peer the gateway does not trust (GATEWAY_TRUST_PROXY=10.0.0.0/8)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: {
        GATEWAY_TRUST_PROXY: '10.0.0.0/8',
        USERS_LOGIN_MAX_ATTEMPTS_PER_IP: '3',
        GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '1000',
      },
    });
  }, 180_000);
  afterAll(() => stack?.stop());

  it('ignores the address the caller claims: every attempt counts for the peer', async () => {
    for (const claimed of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      expect(await codeOf(attempt(stack, claimed))).toBe('UNAUTHENTICATED');
    }
    // A fourth invented address does not buy a fresh budget.
    expect(await codeOf(attempt(stack, '203.0.113.4'))).toBe('RATE_LIMITED');
  });
});
