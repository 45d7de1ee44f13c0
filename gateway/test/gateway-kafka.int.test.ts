/**
 * Cache purges in full mode: the catalog's events travel over a real Kafka broker, and the gateway
 * consumes `catalog.events` with its own consumer group.
 */
import { randomUUID } from 'node:crypto';
import { bearer, describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import { catalogMoves } from './support.ts';

describeWithServers(['TEST_KAFKA_BROKERS'], 'gateway cache purges over Kafka (full mode)', () => {
  const ADMIN = bearer(randomUUID(), 'ADMIN');
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      env: { KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!, GATEWAY_EVENTS_GROUP_ID: `gateway-test-${randomUUID()}` },
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
});
