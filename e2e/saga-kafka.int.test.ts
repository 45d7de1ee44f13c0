/**
 * The order saga on real Kafka + PostgreSQL, through the gateway: every subgraph with its own database
 * and its own Kafka bus, topics and consumer groups under a prefix unique to this run.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import { sagaPathTests } from './saga-scenarios.ts';

jest.setTimeout(90_000);

describeWithServers(['TEST_KAFKA_BROKERS', 'TEST_DATABASE_URL'], 'order saga (Kafka + PostgreSQL)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      database: 'postgres',
      seed: true,
      env: {
        KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!,
        KAFKA_TOPIC_PREFIX: `e2e-${randomUUID().slice(0, 8)}.`,
      },
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  sagaPathTests(() => stack, ['happy', 'insufficient', 'declined', 'cancelAfterConfirm'], 60_000);
});
