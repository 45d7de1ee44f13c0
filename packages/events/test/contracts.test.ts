import { randomUUID } from 'node:crypto';
import {
  createEnvelope,
  createEvent,
  decodeEvent,
  EVENT_TYPES,
  EventContractError,
  eventContracts,
  isEvent,
  onEvents,
  ORDER_PLACED_V1_CURRENCY,
  readEvent,
  TOPICS,
  topicFor,
  type DeliveryInfo,
  type EventEnvelope,
} from '../src/index.ts';
import { examplePayloads, ids } from './fixtures.ts';

const delivery: DeliveryInfo = { topic: 't', partition: 0, offset: '0', attempt: 1 };

describe('event contracts', () => {
  it('cover every event type of the saga and the catalog, each on its producing context topic', () => {
    expect(EVENT_TYPES.sort()).toEqual(
      [
        'OrderCancelled',
        'OrderConfirmed',
        'OrderDelivered',
        'OrderPlaced',
        'OrderShipped',
        'PaymentCaptured',
        'PaymentFailed',
        'PaymentRefunded',
        'ProductArchived',
        'ProductCreated',
        'ProductUpdated',
        'StockChanged',
        'StockRejected',
        'StockReleased',
        'StockReserved',
        'UserRegistered',
      ].sort(),
    );
    expect(topicFor('StockReserved')).toBe(TOPICS.catalog);
    expect(topicFor('UserRegistered')).toBe(TOPICS.users);
    expect(topicFor('OrderCancelled')).toBe(TOPICS.orders);
    expect(topicFor('PaymentFailed')).toBe(TOPICS.billing);
    for (const contract of Object.values(eventContracts)) expect(Object.values(TOPICS)).toContain(contract.topic);
  });

  it.each(EVENT_TYPES)('createEvent builds a %s that a consumer reads back unchanged', (type) => {
    const event = createEvent(type, examplePayloads[type] as never);
    expect(event.type).toBe(type);
    expect(event.version).toBe(eventContracts[type].version);
    const read = decodeEvent(JSON.stringify(event));
    expect(read).toEqual(event);
  });

  it('takes the aggregate id (the partition key) from the payload and chains cause → correlation', () => {
    const placed = createEvent('OrderPlaced', examplePayloads.OrderPlaced, {
      correlationId: 'req-1',
      traceparent: '00-abc-def-01',
    });
    expect(placed.aggregateId).toBe(ids.orderId);
    expect(placed.correlationId).toBe('req-1');
    expect(placed.causationId).toBeNull();
    const reserved = createEvent('StockReserved', examplePayloads.StockReserved, placed);
    expect(reserved.aggregateId).toBe(ids.orderId); // saga events are keyed by the order
    expect(reserved.correlationId).toBe('req-1');
    expect(reserved.causationId).toBe(placed.id);
    expect(reserved.traceparent).toBe('00-abc-def-01');
    expect(createEvent('StockChanged', examplePayloads.StockChanged).aggregateId).toBe(ids.productId);
  });

  it('refuses an invalid payload when the event is created', () => {
    expect(() => createEvent('PaymentCaptured', { orderId: ids.orderId, paymentId: 'p', amountCents: -5 })).toThrow(
      /PaymentCaptured v1: amountCents/,
    );
    expect(() => createEvent('OrderPlaced', { ...examplePayloads.OrderPlaced, lines: [] })).toThrow(EventContractError);
  });

  it('checks the arithmetic of priced lines and totals', () => {
    const wrongTotal = { ...examplePayloads.StockReserved, total: { amountCents: 1, currency: 'USD' } };
    expect(() => createEvent('StockReserved', wrongTotal)).toThrow(/total must be the sum of the line totals/);
    const wrongLine = {
      ...examplePayloads.StockReserved,
      lines: [
        {
          productId: ids.productId,
          quantity: 3,
          unitPrice: { amountCents: 100, currency: 'USD' },
          lineTotal: { amountCents: 200, currency: 'USD' },
        },
      ],
      total: { amountCents: 200, currency: 'USD' },
    };
    expect(() => createEvent('StockReserved', wrongLine)).toThrow(/unitPrice × quantity/);
  });

  it('applies defaults and keeps fields a newer producer added', () => {
    const event = createEvent('ProductUpdated', {
      ...examplePayloads.ProductUpdated,
      changedFields: undefined,
      badge: 'NEW',
    } as never);
    expect(event.payload.changedFields).toEqual([]);
    expect((readEvent(event).payload as Record<string, unknown>).badge).toBe('NEW');
  });

  describe('versions', () => {
    const v1 = (payload: Record<string, unknown>, extra: Partial<EventEnvelope> = {}) => ({
      ...createEnvelope({ type: 'OrderPlaced', version: 1, aggregateId: ids.orderId, payload }),
      ...extra,
    });
    const orderPlacedV1 = {
      orderId: ids.orderId,
      userId: ids.userId,
      lines: [{ productId: ids.productId, quantity: 1 }],
      paymentMethodId: 'pm-1',
    };

    it('upcasts OrderPlaced v1 (before multi-currency) to v2 with the shop currency of the time', () => {
      const read = readEvent(v1(orderPlacedV1));
      expect(read.version).toBe(2);
      expect(read.payload).toEqual({ ...orderPlacedV1, currency: ORDER_PLACED_V1_CURRENCY });
    });

    it('checks a v1 payload against the v1 schema before upcasting it', () => {
      expect(() => readEvent(v1({ ...orderPlacedV1, lines: [{ productId: ids.productId, quantity: 0 }] }))).toThrow(
        /OrderPlaced v1: lines.0.quantity/,
      );
    });

    it('refuses a version newer than this code knows, and unknown types', () => {
      const v3 = { ...createEvent('OrderPlaced', examplePayloads.OrderPlaced), version: 3 };
      expect(() => readEvent(v3)).toThrow(/newer than this service knows/);
      const unknown = createEnvelope({ type: 'OrderTeleported', aggregateId: 'x', payload: {} });
      expect(() => readEvent(unknown)).toThrow(/unknown event type "OrderTeleported"/);
    });
  });

  it('treats broken envelopes and mismatched keys as poison (EventContractError, not retryable)', () => {
    expect(() => decodeEvent('{not json')).toThrow(/not JSON/);
    expect(() => decodeEvent(null)).toThrow(/empty message/);
    expect(() => readEvent({ ...createEvent('OrderShipped', { orderId: ids.orderId }), id: 'nope' })).toThrow(
      /invalid envelope: id/,
    );
    const mismatched = { ...createEvent('OrderShipped', { orderId: ids.orderId }), aggregateId: randomUUID() };
    let error: unknown;
    try {
      readEvent(mismatched);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EventContractError);
    expect((error as EventContractError).retryable).toBe(false);
    expect((error as Error).message).toMatch(/does not match the payload/);
  });

  it('onEvents dispatches by type with typed payloads and skips types it does not handle', async () => {
    const seen: string[] = [];
    const handler = onEvents({
      PaymentCaptured: async (event) => void seen.push(`captured ${event.payload.amountCents}`),
      PaymentFailed: async (event) => void seen.push(`failed ${event.payload.reason}`),
    });
    await handler(createEvent('PaymentCaptured', examplePayloads.PaymentCaptured), delivery);
    await handler(createEvent('PaymentFailed', examplePayloads.PaymentFailed), delivery);
    await handler(createEvent('OrderShipped', examplePayloads.OrderShipped), delivery);
    expect(seen).toEqual(['captured 2900', 'failed card_declined']);
    const event: EventEnvelope = createEvent('OrderDelivered', examplePayloads.OrderDelivered);
    expect(isEvent(event, 'OrderDelivered') && event.payload.orderId).toBe(ids.orderId);
    expect(isEvent(event, 'OrderShipped')).toBe(false);
  });
});
