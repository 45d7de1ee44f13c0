import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import {
  activeTraceparent,
  ConfigError,
  configureTracing,
  contextFromTraceparent,
  createLogger,
  httpServerSpan,
  InMemorySpanExporter,
  injectTraceHeaders,
  installTestSpanExporter,
  runWithRequestContext,
  shutdownTracing,
  SpanKind,
  startProducerSpan,
  tracingEnabled,
  tracingSettingsFromEnv,
  withSpan,
} from '../src/index.ts';

const INCOMING = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function fakeHttp(headers: Record<string, string>) {
  const res = Object.assign(new EventEmitter(), { statusCode: 200 });
  const req = { method: 'POST', headers, context: { requestId: 'req-1', traceId: 'f'.repeat(32) } };
  return { req, res };
}

function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'orders', destination }) };
}

describe('tracing settings', () => {
  it('is off unless OTEL_TRACES_EXPORTER asks for an exporter', () => {
    expect(tracingSettingsFromEnv({})).toMatchObject({ exporter: 'none', otlpTracesUrl: 'http://localhost:4318/v1/traces' });
  });

  it('reads resource attributes and collector headers (percent-encoded lists); a malformed one is named, its value never shown', () => {
    expect(
      tracingSettingsFromEnv({
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod, service.name=orders-eu ,team=a%2Cb',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic%20abc=,x-a=1',
      }),
    ).toMatchObject({
      resourceAttributes: { 'deployment.environment.name': 'prod', 'service.name': 'orders-eu', team: 'a,b' },
      // service.name in the attributes names the process's own service unless OTEL_SERVICE_NAME does.
      serviceName: 'orders-eu',
      otlpHeaders: { authorization: 'Basic abc=', 'x-a': '1' },
    });
    expect(tracingSettingsFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=a', OTEL_SERVICE_NAME: 'b' })).toMatchObject({
      serviceName: 'b',
    });
    const malformed = () => tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization:Bearer sekrit-token' });
    expect(malformed).toThrow(/OTEL_EXPORTER_OTLP_HEADERS/);
    expect(malformed).not.toThrow(/sekrit/);
    expect(() => tracingSettingsFromEnv({ OTEL_RESOURCE_ATTRIBUTES: 'team=%E0%A4%A' })).toThrow(/OTEL_RESOURCE_ATTRIBUTES/);
  });

  it('takes the OTLP endpoint from the standard variables, the traces-specific one first', () => {
    expect(
      tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }),
    ).toMatchObject({
      exporter: 'otlp',
      otlpTracesUrl: 'http://collector:4318/v1/traces',
    });
    expect(
      tracingSettingsFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:9999/custom',
        OTEL_SERVICE_NAME: 'orders-eu',
      }),
    ).toMatchObject({ otlpTracesUrl: 'http://traces:9999/custom', serviceName: 'orders-eu' });
  });

  it('refuses an unknown exporter, a bad endpoint or ratio', () => {
    expect(() => tracingSettingsFromEnv({ OTEL_TRACES_EXPORTER: 'jaeger' })).toThrow(ConfigError);
    expect(() => tracingSettingsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    expect(() =>
      tracingSettingsFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }),
    ).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });
});

describe('tracing while off', () => {
  it('runs the work without spans and leaves trace context as it was', async () => {
    expect(tracingEnabled()).toBe(false);
    const seen = await withSpan('orders', 'work', {}, async (span) => {
      expect(span.isRecording()).toBe(false);
      return activeTraceparent();
    });
    expect(seen).toBeUndefined();
    expect(injectTraceHeaders({})).toEqual({});
    expect(startProducerSpan('orders', 'send orders.events', INCOMING).traceparent).toBe(INCOMING);
  });

  it('passes requests through untouched', () => {
    const { req, res } = fakeHttp({ traceparent: INCOMING });
    let called = false;
    httpServerSpan('orders')(req, res, () => {
      called = true;
    });
    expect(called).toBe(true);
    expect(req.context.traceId).toBe('f'.repeat(32));
  });
});

describe('tracing while on', () => {
  let exporter: InMemorySpanExporter;
  beforeEach(() => {
    exporter = new InMemorySpanExporter(); // shutting tracing down stops its exporter
    installTestSpanExporter(exporter);
  });
  afterEach(() => shutdownTracing());

  const spans = () => exporter.getFinishedSpans();
  const serviceOf = (span: ReturnType<typeof spans>[number]) => span.resource.attributes['service.name'];

  it("continues the caller's traceparent in a SERVER span and hands its own context on", async () => {
    const { req, res } = fakeHttp({ traceparent: INCOMING });
    let inside: { traceparent?: string; headers?: Record<string, string> } = {};
    httpServerSpan('orders')(req, res, () => {
      inside = { traceparent: activeTraceparent(), headers: injectTraceHeaders({}) };
    });
    res.emit('finish');
    const [server] = spans();
    expect(server).toMatchObject({ name: 'POST /graphql', kind: SpanKind.SERVER });
    expect(serviceOf(server!)).toBe('orders');
    expect(server!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(server!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    // The request's logs follow the span's trace.
    expect(req.context.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    // Outgoing calls made while handling it are its children.
    expect(inside.traceparent).toBe(`00-0af7651916cd43dd8448eb211c80319c-${server!.spanContext().spanId}-01`);
    expect(inside.headers).toEqual({ traceparent: inside.traceparent });
  });

  it('starts a new trace when the caller sends none (or garbage)', () => {
    const { req, res } = fakeHttp({ traceparent: 'not-a-traceparent' });
    httpServerSpan('gateway')(req, res, () => {});
    res.emit('close');
    const [server] = spans();
    expect(server!.parentSpanContext).toBeUndefined();
    expect(req.context.traceId).toBe(server!.spanContext().traceId);
  });

  it('names each service on its own spans when several share the process', async () => {
    await withSpan('catalog', 'a', {}, async () => {
      await withSpan('billing', 'b', {}, async () => {});
    });
    const byName = Object.fromEntries(spans().map((span) => [span.name, span]));
    expect(serviceOf(byName.a!)).toBe('catalog');
    expect(serviceOf(byName.b!)).toBe('billing');
    expect(byName.b!.parentSpanContext?.spanId).toBe(byName.a!.spanContext().spanId);
  });

  it('records a failure on the span and rethrows it', async () => {
    await expect(
      withSpan('orders', 'fails', {}, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const [span] = spans();
    expect(span!.status).toMatchObject({ code: 2, message: 'boom' });
    expect(span!.events[0]).toMatchObject({ name: 'exception' });
  });

  it("makes a producer span the message context's child, and the message carries the producer's context", () => {
    const message = startProducerSpan('orders', 'send orders.events', INCOMING, {
      'messaging.destination.name': 'orders.events',
    });
    message.end();
    const [producer] = spans();
    expect(producer).toMatchObject({ kind: SpanKind.PRODUCER, name: 'send orders.events' });
    expect(producer!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(message.traceparent).toBe(`00-0af7651916cd43dd8448eb211c80319c-${producer!.spanContext().spanId}-01`);
  });

  it('continues a message traceparent as an explicit parent, whatever context is active', async () => {
    await withSpan('orders', 'unrelated', {}, async () => {
      await withSpan(
        'catalog',
        'process orders.events',
        { kind: SpanKind.CONSUMER, parent: contextFromTraceparent(INCOMING) },
        async () => {},
      );
    });
    const consumer = spans().find((span) => span.name === 'process orders.events')!;
    expect(consumer.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(consumer.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
  });

  it('puts the span ids on every log line written inside a span, next to the request id', async () => {
    const { lines, logger } = captureLogs();
    await runWithRequestContext({ requestId: 'req-9', traceId: 'e'.repeat(32) }, () =>
      withSpan('orders', 'logged', {}, async () => {
        logger.info('inside');
      }),
    );
    logger.info('outside');
    const [span] = spans();
    expect(lines[0]).toMatchObject({
      msg: 'inside',
      requestId: 'req-9',
      traceId: span!.spanContext().traceId,
      spanId: span!.spanContext().spanId,
    });
    expect(lines[1]).not.toHaveProperty('spanId');
  });
});

describe('OTLP export', () => {
  it('sends the spans of each service, named, to the configured collector', async () => {
    const received: { path?: string; body: string; headers: http.IncomingHttpHeaders }[] = [];
    const collector = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ path: req.url, body, headers: req.headers });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = collector.address() as AddressInfo;
      expect(
        configureTracing(
          {
            OTEL_TRACES_EXPORTER: 'otlp',
            OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
            OTEL_SERVICE_NAME: 'orders-eu',
            OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging,service.version=1.2.3',
            OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=not%20a%20real%20key,x-tenant=shop',
            OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=shop-traces',
          },
          { service: 'orders' },
        ),
      ).toBe(true);
      await withSpan('orders', 'checkout', {}, async () => {});
      await withSpan('catalog', 'reserve', {}, async () => {});
      await shutdownTracing(); // flushes the batch
      expect(tracingEnabled()).toBe(false);
      expect(received.map((request) => request.path)).toContain('/v1/traces');
      const body = received.map((request) => request.body).join('\n');
      // The process's own service takes OTEL_SERVICE_NAME; another one in the process keeps its name.
      expect(body).toContain('"orders-eu"');
      expect(body).toContain('"catalog"');
      expect(body).toContain('"checkout"');
      // Resource attributes on every service; the collector's headers, the traces-specific ones first.
      expect(body.match(/"deployment\.environment\.name"/g)).toHaveLength(2);
      expect(body).toContain('"staging"');
      expect(body).toContain('"1.2.3"');
      expect(received[0]!.headers).toMatchObject({ 'x-api-key': 'not a real key', 'x-tenant': 'shop-traces' });
    } finally {
      await shutdownTracing();
      await new Promise((resolve) => collector.close(resolve));
    }
  });

  it('stays off with the default exporter', () => {
    expect(configureTracing({})).toBe(false);
    expect(tracingEnabled()).toBe(false);
  });
});
