/**
 * Payments stay with their owner, in embedded mode (every subgraph in this process on PGlite, the
 * in-process bus), through the gateway: cards are shown to their owner only, and one customer's
 * failing card cannot open the payment provider's circuit for everyone.
 */
import { jest } from '@jest/globals';
import { startTestStack, type TestStack } from '@commerce/testkit';
import { PAYMENT_ISOLATION_ENV, paymentIsolationTests } from './payment-isolation-scenarios.ts';

jest.setTimeout(60_000);

describe('payment isolation (embedded, in-process bus)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ seed: true, env: PAYMENT_ISOLATION_ENV });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  paymentIsolationTests(() => stack);
});
