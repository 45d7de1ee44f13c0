/**
 * Cache purges in full mode: the catalog's events travel over a real Kafka broker, and the gateway
 * consumes `catalog.events` with its own consumer group.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { TOPICS } from '@commerce/events';
import { bearer, describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import { catalogMoves } from './support.ts';

describeWithServers(['TEST_KAFKA_BROKERS'], 'gateway cache purges over Kafka (full mode)', () => {
  const ADMIN = bearer(randomUUID(), 'ADMIN');

  // Without a prefix, and with the KAFKA_TOPIC_PREFIX every service of a stack shares: the gateway must
  // consume the catalog's prefixed topic, or the cached price below would never be purged.
  describe.each([
    ['no topic prefix', {}],
    ['a topic prefix', { KAFKA_TOPIC_PREFIX: `gw-${randomUUID().slice(0, 8)}.` }],
  ])('with %s', (_label, extraEnv: Record<string, string>) => {
    let stack: TestStack;
    const groupId = `gateway-test-${randomUUID()}`;

    beforeAll(async () => {
      stack = await startTestStack({
        env: {
          KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!,
          GATEWAY_EVENTS_GROUP_ID: groupId,
          ...extraEnv,
        },
      });
    }, 180_000);
    afterAll(() => stack?.stop(), 60_000);

    it('after updateProduct changes the price, the next query shows the new price', async () => {
      const moves = catalogMoves(stack, ADMIN);
      // Returns once the gateway consumed this product's ProductCreated from Kafka (the group has joined).
      const product = await moves.createProduct(7000);
      expect(await moves.priceOf(product.id)).toBe(7000);
      await moves.setPriceWithoutEvent(product.id, 7111);
      expect(await moves.priceOf(product.id)).toBe(7000); // from the cache

      // Returns once the gateway consumed this product's ProductUpdated from Kafka and purged.
      await moves.updatePrice(product, 7777);
      expect(await moves.priceOf(product.id)).toBe(7777);
    }, 90_000);

    // Only on the stack's own prefixed topic: an unreadable message on the shared broker's catalog topic
    // would reach every other consumer of it. Not declared at all without one (CI counts a skipped test as a failure).
    if (extraEnv.KAFKA_TOPIC_PREFIX)
      it('counts a message it parks on events_dead_lettered_total, as every subgraph does', async () => {
        const prefix = extraEnv.KAFKA_TOPIC_PREFIX!;
        const kafka = new Kafka({
          clientId: 'gateway-dlq-test',
          brokers: [process.env.TEST_KAFKA_BROKERS!],
          logLevel: logLevel.NOTHING,
        });
        const producer = kafka.producer();
        await producer.connect();
        try {
          await producer.send({ topic: `${prefix}${TOPICS.catalog}`, messages: [{ key: 'poison', value: 'not an event' }] });
        } finally {
          await producer.disconnect();
        }
        const parked = async () =>
          (await stack.gateway.metrics.registry.getSingleMetricAsString('events_dead_lettered_total')).includes(
            `group="${prefix}${groupId}"`,
          );
        for (const deadline = Date.now() + 30_000; !(await parked().catch(() => false)) && Date.now() < deadline;) {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(await stack.gateway.metrics.registry.getSingleMetricAsString('events_dead_lettered_total')).toContain(
          `events_dead_lettered_total{group="${prefix}${groupId}",topic="${prefix}${TOPICS.catalog}",service="gateway"} 1`,
        );
      }, 60_000);
  });
});
