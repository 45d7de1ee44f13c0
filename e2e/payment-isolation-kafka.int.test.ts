/**
 * Payments stay with their owner, in full mode: every subgraph on its own PostgreSQL database, events on
 * real Kafka (topics under a prefix unique to this run), the gateway's cache and rate limits on Redis.
 * The same scenarios as the embedded test, through the gateway.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import { PAYMENT_ISOLATION_ENV, paymentIsolationTests } from './payment-isolation-scenarios.ts';

jest.setTimeout(120_000);

describeWithServers(
  ['TEST_DATABASE_URL', 'TEST_REDIS_URL', 'TEST_KAFKA_BROKERS'],
  'payment isolation (PostgreSQL + Redis + Kafka)',
  () => {
    let stack: TestStack;
    beforeAll(async () => {
      const prefix = `e2e-pay-${randomUUID().slice(0, 8)}.`;
      stack = await startTestStack({
        database: 'postgres',
        seed: true,
        env: {
          ...PAYMENT_ISOLATION_ENV,
          KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!,
          KAFKA_TOPIC_PREFIX: prefix,
          REDIS_URL: process.env.TEST_REDIS_URL!,
          GATEWAY_REDIS_PREFIX: `${prefix}gateway:`,
          USERS_REDIS_PREFIX: `${prefix}users:`,
        },
      });
    }, 180_000);
    afterAll(async () => {
      await stack?.stop();
    });

    paymentIsolationTests(() => stack, 60_000);
  },
);
