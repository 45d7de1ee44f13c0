import {
  createEnvelope,
  createEvent,
  deadLetterTopic,
  DLQ_HEADERS,
  InProcessEventBus,
  PermanentEventError,
  type EventEnvelope,
  type OutgoingMessage,
} from '../src/index.ts';
import { ids } from './fixtures.ts';
import { eventually } from './support/eventually.ts';

const topic = 'orders.events';
const stockChanged = (productId: string, available: number) =>
  createEvent('StockChanged', { productId, available, reason: 'ADJUSTMENT' });
const message = (envelope: EventEnvelope): OutgoingMessage => ({ topic, key: envelope.aggregateId, envelope });

describe('InProcessEventBus', () => {
  let bus: InProcessEventBus;
  beforeEach(() => {
    bus = new InProcessEventBus({ retryDelayMs: () => 1 });
  });
  afterEach(() => bus.close());

  it('delivers every message to every group, in order, including what was published before it subscribed', async () => {
    const events = [1, 2, 3, 4, 5].map((n) => stockChanged(ids.productId, n));
    await bus.publish(events.slice(0, 2).map(message));
    const seen: Record<string, number[]> = { catalog: [], gateway: [] };
    for (const groupId of ['catalog', 'gateway']) {
      await bus.subscribe({
        groupId,
        topics: [topic],
        handler: async (e) => void seen[groupId]!.push((e.payload as { available: number }).available),
      });
    }
    await bus.publish(events.slice(2).map(message));
    await eventually(() => expect(seen).toEqual({ catalog: [1, 2, 3, 4, 5], gateway: [1, 2, 3, 4, 5] }));
  });

  it('retries a failing handler with the attempt number and then succeeds', async () => {
    const attempts: number[] = [];
    await bus.subscribe({
      groupId: 'billing',
      topics: [topic],
      handler: async (_e, delivery) => {
        attempts.push(delivery.attempt);
        if (delivery.attempt < 3) throw new Error('database busy');
      },
    });
    await bus.publish([message(stockChanged(ids.productId, 1))]);
    await eventually(() => expect(attempts).toEqual([1, 2, 3]));
    expect(bus.records(deadLetterTopic('billing'))).toHaveLength(0);
  });

  it('parks a message that keeps failing on the group DLQ with its error, and keeps the later ones flowing', async () => {
    const handled: number[] = [];
    const parked: string[] = [];
    const local = new InProcessEventBus({
      retryDelayMs: () => 1,
      onDeadLetter: (letter) => parked.push(`${letter.eventType} after ${letter.attempts}`),
    });
    try {
      await local.subscribe({
        groupId: 'catalog',
        topics: [topic],
        maxAttempts: 3,
        handler: async (e) => {
          const available = (e.payload as { available: number }).available;
          if (available === 2) throw new Error('cannot apply 2');
          handled.push(available);
        },
      });
      await local.publish([1, 2, 3].map((n) => message(stockChanged(ids.productId, n))));
      await eventually(() => expect(handled).toEqual([1, 3]));
      const [record] = local.records(deadLetterTopic('catalog'));
      expect(record!.headers).toMatchObject({
        [DLQ_HEADERS.error]: 'cannot apply 2',
        [DLQ_HEADERS.attempts]: '3',
        [DLQ_HEADERS.topic]: topic,
        [DLQ_HEADERS.offset]: '1',
        type: 'StockChanged',
      });
      expect(JSON.parse(record!.value).payload.available).toBe(2);
      expect(parked).toEqual(['StockChanged after 3']);
    } finally {
      await local.close();
    }
  });

  it('parks schema-invalid messages at once, without calling the handler', async () => {
    const handled: string[] = [];
    await bus.subscribe({ groupId: 'orders', topics: [topic], handler: async (e) => void handled.push(e.type) });
    const invalid = createEnvelope({
      type: 'PaymentCaptured',
      aggregateId: ids.orderId,
      payload: { orderId: ids.orderId, amountCents: 'lots' },
    });
    const unknown = createEnvelope({ type: 'Teleported', aggregateId: 'x', payload: {} });
    await bus.publish([message(invalid), message(unknown), message(createEvent('OrderDelivered', { orderId: ids.orderId }))]);
    await eventually(() => expect(handled).toEqual(['OrderDelivered']));
    const parked = bus.records(deadLetterTopic('orders'));
    expect(parked.map((r) => [r.headers[DLQ_HEADERS.attempts], r.headers[DLQ_HEADERS.errorName]])).toEqual([
      ['0', 'EventContractError'],
      ['0', 'EventContractError'],
    ]);
    expect(parked[0]!.headers[DLQ_HEADERS.error]).toMatch(/PaymentCaptured v1: .*amountCents/);
  });

  it('passes over the types a subscription does not handle, without decoding them', async () => {
    const handled: string[] = [];
    await bus.subscribe({
      groupId: 'orders',
      topics: [topic],
      types: ['OrderDelivered'],
      handler: async (e) => void handled.push(e.type),
    });
    // Schema-invalid, but of a type the group passes over: not parked (it would be, were it handled).
    const invalid = createEnvelope({ type: 'PaymentCaptured', aggregateId: ids.orderId, payload: { amountCents: 'lots' } });
    await bus.publish([
      message(stockChanged(ids.productId, 1)),
      message(invalid),
      message(createEvent('OrderDelivered', { orderId: ids.orderId })),
    ]);
    await bus.drain();
    expect(handled).toEqual(['OrderDelivered']);
    expect(bus.records(deadLetterTopic('orders'))).toEqual([]);
  });

  it('does not retry a handler that says retrying cannot help', async () => {
    const attempts: number[] = [];
    await bus.subscribe({
      groupId: 'billing',
      topics: [topic],
      handler: async (_e, delivery) => {
        attempts.push(delivery.attempt);
        throw new PermanentEventError('order unknown here');
      },
    });
    await bus.publish([message(stockChanged(ids.productId, 1))]);
    await eventually(() => expect(bus.records(deadLetterTopic('billing'))).toHaveLength(1));
    expect(attempts).toEqual([1]);
  });

  it('hands consumers the current version of an older event (upcast)', async () => {
    const payloads: unknown[] = [];
    await bus.subscribe({
      groupId: 'catalog',
      topics: [topic],
      handler: async (e) => void payloads.push([e.version, e.payload]),
    });
    const v1 = createEnvelope({
      type: 'OrderPlaced',
      version: 1,
      aggregateId: ids.orderId,
      payload: {
        orderId: ids.orderId,
        userId: ids.userId,
        lines: [{ productId: ids.productId, quantity: 1 }],
        paymentMethodId: 'pm',
      },
    });
    await bus.publish([message(v1)]);
    await eventually(() => expect(payloads).toEqual([[2, expect.objectContaining({ currency: 'USD', paymentMethodId: 'pm' })]]));
  });

  it('keeps a group position across subscriptions, and redelivers what a stopped subscription had not finished', async () => {
    const firstRun: number[] = [];
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    const first = await bus.subscribe({
      groupId: 'orders',
      topics: [topic],
      handler: async (e) => {
        const n = (e.payload as { available: number }).available;
        firstRun.push(n);
        if (n === 2) {
          await blocked;
          throw new Error('crashed while handling 2'); // fails, then the subscription is stopped mid-retry
        }
      },
    });
    await bus.publish([1, 2, 3].map((n) => message(stockChanged(ids.productId, n))));
    await eventually(() => expect(firstRun).toEqual([1, 2]));
    const stopping = first.stop();
    release();
    await stopping;

    const secondRun: number[] = [];
    await bus.subscribe({
      groupId: 'orders',
      topics: [topic],
      handler: async (e) => void secondRun.push((e.payload as { available: number }).available),
    });
    await eventually(() => expect(secondRun).toEqual([2, 3])); // 1 was committed; 2 was not
    expect(bus.records(deadLetterTopic('orders'))).toHaveLength(0);
  });

  it('refuses a second live subscription of the same group', async () => {
    await bus.subscribe({ groupId: 'g', topics: [topic], handler: async () => {} });
    await expect(bus.subscribe({ groupId: 'g', topics: [topic], handler: async () => {} })).rejects.toThrow(
      /already has a subscription/,
    );
  });

  it('drain waits until every group has handled what was published', async () => {
    const handled: number[] = [];
    await bus.subscribe({
      groupId: 'slow',
      topics: [topic],
      handler: async (e) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        handled.push((e.payload as { available: number }).available);
      },
    });
    await bus.publish([1, 2, 3].map((n) => message(stockChanged(ids.productId, n))));
    expect(await bus.drain(2000)).toBe(true);
    expect(handled).toEqual([1, 2, 3]);
  });
});
