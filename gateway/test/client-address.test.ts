/**
 * The gateway passes the client's address on to subgraphs (replacing whatever the caller sent), so the
 * users service throttles failed logins per client, not per gateway.
 */
import { randomUUID } from 'node:crypto';
import { startTestStack, type TestStack } from '@commerce/testkit';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    env: { USERS_LOGIN_MAX_ATTEMPTS_PER_IP: '3', GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '1000' },
  });
}, 180_000);
afterAll(() => stack?.stop());

const LOGIN = 'mutation($email: String!) { login(email: $email, password: "not the password") { accessToken } }';
const attempt = (clientIp: string) =>
  stack.query(LOGIN, { email: `${randomUUID()}@example.test` }, { 'x-forwarded-for': clientIp });

it('throttles failed logins per client address seen by the gateway', async () => {
  for (let i = 0; i < 3; i++) {
    expect((await attempt('203.0.113.7')).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  }
  expect((await attempt('203.0.113.7')).body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  // Another client behind the same gateway keeps its own budget.
  expect((await attempt('203.0.113.8')).body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
});
