/**
 * Tracing on real Kafka + PostgreSQL: every subgraph with its own Kafka bus and database, topics and
 * consumer groups under a prefix unique to this run. The trace crosses the broker in the message's
 * `traceparent` (header and envelope).
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { InMemorySpanExporter, installTestSpanExporter, shutdownTracing } from '@commerce/platform';
import { describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import { checkoutTraceTests } from './tracing-scenario.ts';

jest.setTimeout(90_000);

describeWithServers(['TEST_KAFKA_BROKERS', 'TEST_DATABASE_URL'], 'tracing (Kafka + PostgreSQL)', () => {
  const exporter = new InMemorySpanExporter();
  let stack: TestStack;
  beforeAll(async () => {
    installTestSpanExporter(exporter);
    stack = await startTestStack({
      database: 'postgres',
      seed: true,
      env: {
        KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!,
        KAFKA_TOPIC_PREFIX: `e2e-trace-${randomUUID().slice(0, 8)}.`,
      },
    });
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
    await shutdownTracing();
  });

  checkoutTraceTests(
    () => stack,
    () => exporter,
    'kafka',
    60_000,
  );
});
