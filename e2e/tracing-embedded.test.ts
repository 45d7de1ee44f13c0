/**
 * Tracing in embedded mode: every service in this process, one in-process bus, spans recorded in memory.
 * Each service still names itself on its spans (one tracer provider per service).
 */
import { randomBytes } from 'node:crypto';
import { jest } from '@jest/globals';
import { InMemorySpanExporter, installTestSpanExporter, shutdownTracing, SpanKind } from '@commerce/platform';
import { startTestStack, type TestStack } from '@commerce/testkit';
import { checkoutTraceTests, serviceOf } from './tracing-scenario.ts';

jest.setTimeout(60_000);

describe('tracing (embedded, in-process bus)', () => {
  const exporter = new InMemorySpanExporter();
  let stack: TestStack;
  beforeAll(async () => {
    installTestSpanExporter(exporter);
    stack = await startTestStack({ seed: true });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await shutdownTracing();
  });

  checkoutTraceTests(
    () => stack,
    () => exporter,
    'in-process',
  );

  it('a cache hit answered in front of Express still has its SERVER span, continuing the caller’s trace', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const body = JSON.stringify({ query: 'query HitPathTraced { categories { id name } }' });
    const hitPath = stack.gateway.hitPath!;
    const before = hitPath.stats().hits;
    // The first answer fills the response cache, the next one the hit path's copy; then hits.
    for (let i = 0; i < 4; i++) {
      const response = await fetch(stack.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
        body,
      });
      expect(response.status).toBe(200);
      await response.text();
    }
    const hits = hitPath.stats().hits - before;
    expect(hits).toBeGreaterThan(0);
    const serverSpans = exporter
      .getFinishedSpans()
      .filter((span) => span.spanContext().traceId === traceId && serviceOf(span) === 'gateway' && span.kind === SpanKind.SERVER);
    // One per request, hits included, each a child of the caller's span.
    expect(serverSpans).toHaveLength(4);
    const hitSpans = serverSpans.filter((span) => span.attributes['gateway.cache.hit_path'] === true);
    expect(hitSpans).toHaveLength(hits);
    for (const span of hitSpans) {
      expect(span.name).toBe('POST /graphql');
      expect(span.parentSpanContext?.spanId).toBe(callerSpanId);
      expect(span.attributes).toMatchObject({
        'http.request.method': 'POST',
        'http.route': '/graphql',
        'http.response.status_code': 200,
        'graphql.operation.name': 'HitPathTraced',
      });
      expect(span.duration[0] * 1e9 + span.duration[1]).toBeGreaterThanOrEqual(0);
    }
  });
});
