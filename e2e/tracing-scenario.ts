/**
 * "One checkout is one trace": shared by the embedded (in-process bus) and the Kafka suites. The test
 * sends its own `traceparent` to the gateway, so the checkout's trace id is known, then follows the
 * spans every hop leaves — gateway → orders (HTTP) → outbox → bus → catalog → bus → billing → bus →
 * orders — and checks who is whose parent, not just the ids.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SpanKind, type InMemorySpanExporter, type ReadableSpan } from '@commerce/platform';
import type { TestStack } from '@commerce/testkit';
import { newShopper, stockedProducts, waitForOrder } from './saga-support.ts';

export const serviceOf = (span: ReadableSpan) => span.resource.attributes['service.name'];
const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

function describeSpan(span: ReadableSpan): string {
  return `${String(serviceOf(span))} ${SpanKind[span.kind]} "${span.name}" ${idOf(span)} <- ${parentOf(span) ?? 'root'} ${String(span.attributes['event.type'] ?? '')}`;
}

/** Polls the exporter until `done` holds for the trace's spans (consumers finish after the order is visible). */
async function waitForSpans(
  exporter: InMemorySpanExporter,
  traceId: string,
  done: (spans: ReadableSpan[]) => boolean,
  timeoutMs = 20_000,
): Promise<ReadableSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    if (done(spans)) return spans;
    if (Date.now() > deadline) {
      throw new Error(`trace ${traceId} incomplete after ${timeoutMs} ms:\n${spans.map(describeSpan).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The one span matching `where`, with a readable failure listing the trace when there is none. */
function single(spans: ReadableSpan[], description: string, where: (span: ReadableSpan) => boolean): ReadableSpan {
  const found = spans.filter(where);
  if (found.length !== 1) {
    throw new Error(`expected one ${description}, found ${found.length} in:\n${spans.map(describeSpan).join('\n')}`);
  }
  return found[0]!;
}

const producerOf = (type: string, service: string) => (span: ReadableSpan) =>
  span.kind === SpanKind.PRODUCER && serviceOf(span) === service && span.attributes['event.type'] === type;
const consumerOf = (type: string, service: string) => (span: ReadableSpan) =>
  span.kind === SpanKind.CONSUMER && serviceOf(span) === service && span.attributes['event.type'] === type;

export function checkoutTraceTests(
  stack: () => TestStack,
  exporter: () => InMemorySpanExporter,
  system: 'kafka' | 'in-process',
  timeoutMs = 20_000,
): void {
  it('one checkout is one trace: gateway, orders, catalog and billing spans, Kafka hops included, until CONFIRMED', async () => {
    const { query } = stack();
    const shopper = await newShopper(query, 'tok_visa');
    const [productId] = await stockedProducts(query, 1);
    const added = await query(
      'mutation ($id: ID!) { addToCart(productId: $id, quantity: 1) { itemCount } }',
      { id: productId },
      shopper.headers,
    );
    expect(added.body.errors).toBeUndefined();

    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const { body } = await query<{ checkout: { id: string; status: string } }>(
      `mutation ($pm: ID!, $address: ID!, $key: String!) {
         checkout(paymentMethodId: $pm, shippingAddressId: $address, idempotencyKey: $key) { id status }
       }`,
      { pm: shopper.paymentMethodId, address: shopper.addressId, key: randomUUID() },
      { ...shopper.headers, traceparent: `00-${traceId}-${callerSpanId}-01` },
    );
    expect(body.errors).toBeUndefined();
    const orderId = body.data!.checkout.id;
    expect((await waitForOrder(query, shopper, orderId, (order) => order.status === 'CONFIRMED', timeoutMs)).status).toBe(
      'CONFIRMED',
    );

    const spans = await waitForSpans(
      exporter(),
      traceId,
      (found) => found.some(consumerOf('PaymentCaptured', 'orders')),
      timeoutMs,
    );

    // HTTP: the client's call → gateway SERVER → gateway CLIENT (one per subgraph fetch) → orders SERVER.
    const gateway = single(
      spans,
      'gateway server span',
      (span) => serviceOf(span) === 'gateway' && span.kind === SpanKind.SERVER,
    );
    expect(parentOf(gateway)).toBe(callerSpanId);
    expect(gateway.attributes).toMatchObject({ 'http.response.status_code': 200, 'graphql.operation.type': 'mutation' });
    const fetch = single(
      spans,
      'gateway fetch from orders',
      (span) => span.kind === SpanKind.CLIENT && span.name === 'subgraph orders' && parentOf(span) === idOf(gateway),
    );
    const ordersServer = single(
      spans,
      'orders server span',
      (span) => serviceOf(span) === 'orders' && span.kind === SpanKind.SERVER,
    );
    expect(parentOf(ordersServer)).toBe(idOf(fetch));

    // Events: each written inside a span, sent by the relay as that span's child, handled as the sender's
    // child; what a consumer writes is its child in turn.
    const placed = single(spans, 'OrderPlaced send', producerOf('OrderPlaced', 'orders'));
    expect(parentOf(placed)).toBe(idOf(ordersServer));
    const reserving = single(spans, 'catalog handling OrderPlaced', consumerOf('OrderPlaced', 'catalog'));
    expect(parentOf(reserving)).toBe(idOf(placed));
    const reserved = single(spans, 'StockReserved send', producerOf('StockReserved', 'catalog'));
    expect(parentOf(reserved)).toBe(idOf(reserving));
    const charging = single(spans, 'billing handling StockReserved', consumerOf('StockReserved', 'billing'));
    expect(parentOf(charging)).toBe(idOf(reserved));
    const captured = single(spans, 'PaymentCaptured send', producerOf('PaymentCaptured', 'billing'));
    expect(parentOf(captured)).toBe(idOf(charging));
    const confirming = single(spans, 'orders handling PaymentCaptured', consumerOf('PaymentCaptured', 'orders'));
    expect(parentOf(confirming)).toBe(idOf(captured));
    expect(confirming.status.code).not.toBe(2);

    for (const span of [placed, reserved, captured, reserving, charging, confirming]) {
      expect(span.attributes['messaging.destination.name']).toEqual(expect.stringMatching(/(orders|catalog|billing)\.events$/));
    }
    for (const span of [reserving, charging, confirming]) expect(span.attributes['messaging.system']).toBe(system);
    for (const service of ['gateway', 'orders', 'catalog', 'billing']) expect(spans.map(serviceOf)).toContain(service);
  });

  it("orders' own call to the catalog continues the request's trace", async () => {
    const { query } = stack();
    const shopper = await newShopper(query, 'tok_visa');
    const [productId] = await stockedProducts(query, 1);
    const traceId = randomBytes(16).toString('hex');
    const { body } = await query(
      'mutation ($id: ID!) { addToCart(productId: $id, quantity: 1) { itemCount } }',
      { id: productId },
      { ...shopper.headers, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    );
    expect(body.errors).toBeUndefined();
    const spans = await waitForSpans(exporter(), traceId, (found) =>
      found.some((span) => serviceOf(span) === 'catalog' && span.kind === SpanKind.SERVER),
    );
    const ordersServer = single(
      spans,
      'orders server span',
      (span) => serviceOf(span) === 'orders' && span.kind === SpanKind.SERVER,
    );
    const call = single(spans, 'orders → catalog call', (span) => serviceOf(span) === 'orders' && span.kind === SpanKind.CLIENT);
    expect(parentOf(call)).toBe(idOf(ordersServer));
    const catalogServer = single(
      spans,
      'catalog server span',
      (span) => serviceOf(span) === 'catalog' && span.kind === SpanKind.SERVER,
    );
    expect(parentOf(catalogServer)).toBe(idOf(call));
  });
}
