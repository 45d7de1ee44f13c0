/**
 * Fault tests of the order saga on real Kafka + PostgreSQL: duplicated events, poison messages. (The
 * broker outage and the consumer killed between its commit and its offset commit have their own files.)
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { DLQ_HEADERS } from '@commerce/events';
import { describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import { KafkaProbe, SAGA_GROUPS } from './kafka-probe.ts';
import { newShopper, placeOrder, settled, stockedProducts, stockOf, waitForOrder } from './saga-support.ts';

jest.setTimeout(90_000);

interface OutboxReader {
  outboxEvent: { findMany(args: { where: { aggregateId: string } }): Promise<{ type: string; envelope: unknown }[]> };
}
interface Probed {
  prisma: OutboxReader & {
    payment?: { count(args: unknown): Promise<number> };
    refund?: { count(args: unknown): Promise<number> };
    processedEvent?: { count(args: unknown): Promise<number> };
  };
}

describeWithServers(['TEST_KAFKA_BROKERS', 'TEST_DATABASE_URL'], 'order saga faults (Kafka + PostgreSQL)', () => {
  const prefix = `e2e-${randomUUID().slice(0, 8)}.`;
  let stack: TestStack;
  let probe: KafkaProbe;
  const service = (name: string) => stack.services[name] as unknown as Probed;

  beforeAll(async () => {
    stack = await startTestStack({
      database: 'postgres',
      seed: true,
      env: { KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!, KAFKA_TOPIC_PREFIX: prefix },
    });
    probe = new KafkaProbe(process.env.TEST_KAFKA_BROKERS!, prefix);
  }, 180_000);
  afterAll(async () => {
    await probe?.close();
    await stack?.stop();
  });

  /** What the saga did for an order, as the three services recorded it. */
  async function effectsOf(orderId: string, productId: string) {
    const types = async (name: string) =>
      (await service(name).prisma.outboxEvent.findMany({ where: { aggregateId: orderId } })).map((row) => row.type).sort();
    return {
      stock: await stockOf(stack.query, productId),
      ordersEvents: await types('orders'),
      catalogEvents: await types('catalog'),
      billingEvents: await types('billing'),
      payments: await service('billing').prisma.payment!.count({ where: { orderId } }),
      refunds: await service('billing').prisma.refund!.count({ where: { payment: { orderId } } }),
    };
  }

  it('the same events delivered twice have one effect', async () => {
    const [productId] = await stockedProducts(stack.query, 5);
    const shopper = await newShopper(stack.query, 'tok_visa');
    const orderId = await placeOrder(stack.query, shopper, [{ productId: productId!, quantity: 1 }]);
    expect((await waitForOrder(stack.query, shopper, orderId, settled, 60_000)).status).toBe('CONFIRMED');
    await probe.waitForCaughtUp(SAGA_GROUPS);
    const before = await effectsOf(orderId, productId!);
    expect(before.ordersEvents).toEqual(['OrderConfirmed', 'OrderPlaced']);
    expect(before.catalogEvents).toContain('StockReserved');
    expect(before.billingEvents).toEqual(['PaymentCaptured']);

    // Every saga event of the order, published again exactly as it was (same event ids), twice.
    const again = async (name: string, topic: string, type: string) => {
      const rows = await service(name).prisma.outboxEvent.findMany({ where: { aggregateId: orderId } });
      const value = JSON.stringify(rows.find((row) => row.type === type)!.envelope);
      await probe.send(topic, [
        { key: orderId, value },
        { key: orderId, value },
      ]);
    };
    await again('orders', 'orders.events', 'OrderPlaced');
    await again('catalog', 'catalog.events', 'StockReserved');
    await again('billing', 'billing.events', 'PaymentCaptured');
    await probe.waitForCaughtUp(SAGA_GROUPS);

    expect(await effectsOf(orderId, productId!)).toEqual(before);
    expect((await waitForOrder(stack.query, shopper, orderId, settled)).status).toBe('CONFIRMED');
  });

  it('a poison message is parked on the DLQ while later messages on its partition keep flowing', async () => {
    // One unreadable and one schema-invalid message on every partition of orders.events, ahead of the next order.
    const partitions = await probe.partitions('orders.events');
    const invalidEvent = JSON.stringify({
      id: randomUUID(),
      type: 'OrderPlaced',
      version: 2,
      occurredAt: new Date().toISOString(),
      aggregateId: randomUUID(),
      correlationId: randomUUID(),
      causationId: null,
      traceparent: null,
      payload: { orderId: 'not-a-uuid' },
    });
    await probe.send(
      'orders.events',
      partitions.flatMap((partition) => [
        { key: `poison-${partition}`, value: '{not json', partition },
        { key: `invalid-${partition}`, value: invalidEvent, partition },
      ]),
    );

    const [productId] = await stockedProducts(stack.query, 5);
    const shopper = await newShopper(stack.query, 'tok_visa');
    const orderId = await placeOrder(stack.query, shopper, [{ productId: productId!, quantity: 1 }]);
    expect((await waitForOrder(stack.query, shopper, orderId, settled, 60_000)).status).toBe('CONFIRMED');
    await probe.waitForCaughtUp(SAGA_GROUPS);

    // Both groups reading orders.events parked all of them, with the reason.
    for (const group of ['catalog.saga', 'billing.saga']) {
      const parked = await probe.readAll(`${group}.dlq`);
      expect(parked).toHaveLength(partitions.length * 2);
      expect(parked.filter((message) => message.value === '{not json')).toHaveLength(partitions.length);
      for (const message of parked) {
        expect(message.headers[DLQ_HEADERS.error]).toBeTruthy();
        expect(message.headers[DLQ_HEADERS.topic]).toBe(`${prefix}orders.events`);
      }
    }
  });
});
