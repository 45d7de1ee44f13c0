/**
 * Trace context through the event bus: a consumer's span continues the message's traceparent, and the
 * events it writes carry the consumer span's context (so a saga stays one trace); with tracing off the
 * envelope keeps the cause's traceparent as before.
 */
import { InMemorySpanExporter, installTestSpanExporter, shutdownTracing, SpanKind, withSpan } from '@commerce/platform';
import { createEvent, InProcessEventBus, type EventEnvelope } from '../src/index.ts';
import { ids } from './fixtures.ts';
import { eventually } from './support/eventually.ts';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PRODUCER_SPAN = 'b7ad6b7169203331';
const cause = { correlationId: 'checkout-1', traceparent: `00-${TRACE_ID}-${PRODUCER_SPAN}-01` };
const stockChanged = () => createEvent('StockChanged', { productId: ids.productId, available: 3, reason: 'ADJUSTMENT' }, cause);

describe('event trace context', () => {
  let bus: InProcessEventBus;
  beforeEach(() => {
    bus = new InProcessEventBus({ retryDelayMs: () => 1 });
  });
  afterEach(() => bus.close());

  it("keeps the cause's traceparent while tracing is off", () => {
    expect(stockChanged().traceparent).toBe(cause.traceparent);
  });

  describe('while tracing is on', () => {
    let exporter: InMemorySpanExporter;
    beforeEach(() => {
      exporter = new InMemorySpanExporter();
      installTestSpanExporter(exporter);
    });
    afterEach(() => shutdownTracing());

    it('records the span an event is created in, not the stale cause', async () => {
      const envelope = await withSpan('orders', 'request', {}, async (span) => {
        const event = stockChanged();
        expect(event.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
        return event;
      });
      expect(envelope.traceparent).not.toBe(cause.traceparent);
    });

    it('handles each attempt in a CONSUMER span, child of the message, whose context the emitted events carry', async () => {
      const emitted: EventEnvelope[] = [];
      let attempts = 0;
      await bus.subscribe({
        groupId: 'catalog.saga',
        topics: ['orders.events'],
        handler: async () => {
          attempts += 1;
          if (attempts === 1) throw new Error('transient');
          emitted.push(stockChanged());
        },
      });
      const envelope = stockChanged(); // no active span here: it carries the cause's traceparent
      // Published from inside an unrelated span: the consumer must not inherit it.
      await withSpan('billing', 'unrelated', {}, () =>
        bus.publish([{ topic: 'orders.events', key: envelope.aggregateId, envelope }]),
      );
      await eventually(() => expect(emitted).toHaveLength(1));
      const consumers = exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.CONSUMER);
      expect(consumers).toHaveLength(2);
      for (const span of consumers) {
        expect(span.resource.attributes['service.name']).toBe('catalog');
        expect(span.spanContext().traceId).toBe(TRACE_ID);
        expect(span.parentSpanContext?.spanId).toBe(PRODUCER_SPAN);
        expect(span.attributes).toMatchObject({
          'messaging.system': 'in-process',
          'messaging.destination.name': 'orders.events',
          'messaging.consumer.group.name': 'catalog.saga',
          'messaging.message.id': envelope.id,
        });
      }
      const [failed, succeeded] = consumers;
      expect(failed!.status.code).toBe(2);
      expect(failed!.attributes['event.attempt']).toBe(1);
      expect(succeeded!.attributes['event.attempt']).toBe(2);
      expect(emitted[0]!.traceparent).toBe(`00-${TRACE_ID}-${succeeded!.spanContext().spanId}-01`);
    });
  });
});
