import { jest } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import { createLogger, createServiceMetrics } from '@commerce/platform';
import { KafkaEventBus, TOPICS } from '@commerce/events';
import { describeWithServers } from '@commerce/testkit';
import { createEventBus, loadServiceConfig } from '../src/index.ts';
import { closedPort } from '../../events/test/support/kafka.ts';

const silent = createLogger({ service: 'test', level: 'silent' });

describeWithServers(['TEST_KAFKA_BROKERS'], 'event wiring with KAFKA_BROKERS', () => {
  jest.setTimeout(60_000);

  it('picks the Kafka bus and creates every context topic at start-up', async () => {
    const config = loadServiceConfig('billing', { KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS });
    const bus = await createEventBus(config, silent, createServiceMetrics('billing').registry);
    try {
      expect(bus).toBeInstanceOf(KafkaEventBus);
      const admin = new Kafka({ clientId: 'wiring-test', brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        expect(await admin.listTopics()).toEqual(expect.arrayContaining(Object.values(TOPICS)));
      } finally {
        await admin.disconnect();
      }
    } finally {
      await bus.close();
    }
  });

  it('fails the start with a clear error when no broker answers', async () => {
    const config = loadServiceConfig('billing', { KAFKA_BROKERS: `127.0.0.1:${await closedPort()}` });
    await expect(createEventBus(config, silent, createServiceMetrics('billing').registry)).rejects.toThrow(
      /^Kafka at 127\.0\.0\.1:\d+ is unreachable/,
    );
  });
});
