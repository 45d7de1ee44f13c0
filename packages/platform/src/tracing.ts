/**
 * OpenTelemetry tracing: one trace per checkout, across the gateway, the subgraphs' HTTP calls, the
 * outbox, the event bus (Kafka or in-process) and the consumers.
 *
 * Spans are made by hand at those edges (no auto-instrumentation: our ESM code run by tsx is invisible
 * to require hooks). Configuration is the standard OTEL_* variables (docs/configuration.md):
 * `OTEL_TRACES_EXPORTER` = `none` (default) | `otlp` | `console`. While tracing is off every helper
 * here is a no-op that costs a flag check, and trace context still travels as it did before (the
 * request's trace id, the envelope's `traceparent`).
 *
 * Several services can share one process (embedded mode, the test stack), so there is no single global
 * resource: each service gets its own TracerProvider with its own `service.name`, all feeding one span
 * processor (one exporter, one batch queue). Context (the active span) lives in one AsyncLocalStorage
 * context manager and travels between processes as W3C `traceparent`.
 */
import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  AlwaysOnSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ConfigError } from './config.ts';

export { SpanKind, SpanStatusCode };
/** For tests (installTestSpanExporter); re-exported so they get this SDK's version, not a hoisted one. */
export { InMemorySpanExporter };
export type { ReadableSpan };
export type { Span, Tracer, Context, Link };

export type TracesExporterKind = 'none' | 'otlp' | 'console';

export interface TracingSettings {
  exporter: TracesExporterKind;
  /** OTLP/HTTP traces URL (`…/v1/traces`). */
  otlpTracesUrl: string;
  /** `OTEL_SERVICE_NAME`: replaces the name of the process's own service (a process that runs one). */
  serviceName?: string;
  /** Share of new traces recorded (`OTEL_TRACES_SAMPLER_ARG` with a ratio sampler); 1 = all. */
  sampleRatio: number;
  /** `OTEL_RESOURCE_ATTRIBUTES` (e.g. `deployment.environment.name=prod`), on every service's spans. */
  resourceAttributes: Record<string, string>;
  /** `OTEL_EXPORTER_OTLP_TRACES_HEADERS` over `OTEL_EXPORTER_OTLP_HEADERS` (e.g. a vendor's API key). Never logged. */
  otlpHeaders: Record<string, string>;
}

/**
 * The OTel spec's `key=value,key=value` lists (values percent-encoded), as used by
 * OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS. Undefined when malformed; the problem
 * report names the variable only, since header values may be secrets.
 */
function keyValueList(raw: string | undefined): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  if (!raw?.trim()) return result;
  for (const item of raw.split(',')) {
    if (!item.trim()) continue;
    const at = item.indexOf('=');
    if (at <= 0) return undefined;
    const key = item.slice(0, at).trim();
    if (!key) return undefined;
    try {
      result[key] = decodeURIComponent(item.slice(at + 1).trim());
    } catch {
      return undefined;
    }
  }
  return result;
}

const EXPORTERS = new Set<TracesExporterKind>(['none', 'otlp', 'console']);

/** Reads the standard OTEL_* variables (only the ones we support). */
export function tracingSettingsFromEnv(env: Record<string, string | undefined> = process.env): TracingSettings {
  const problems: { variable: string; problem: string }[] = [];
  const exporter = (env.OTEL_TRACES_EXPORTER?.trim() || 'none').toLowerCase() as TracesExporterKind;
  if (!EXPORTERS.has(exporter)) problems.push({ variable: 'OTEL_TRACES_EXPORTER', problem: 'must be none, otlp or console' });
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const otlpTracesUrl = tracesEndpoint || `${(endpoint || 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`;
  for (const [variable, value] of [
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', tracesEndpoint],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', endpoint],
  ] as const) {
    if (value && !/^https?:\/\/[^\s]+$/.test(value)) problems.push({ variable, problem: 'must be an http(s) URL' });
  }
  const sampler = env.OTEL_TRACES_SAMPLER?.trim();
  let sampleRatio = 1;
  if (sampler && sampler !== 'parentbased_always_on' && sampler !== 'always_on') {
    if (sampler === 'parentbased_traceidratio' || sampler === 'traceidratio') {
      sampleRatio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
      if (!(sampleRatio >= 0 && sampleRatio <= 1)) {
        problems.push({ variable: 'OTEL_TRACES_SAMPLER_ARG', problem: 'must be a number from 0 to 1' });
      }
    } else {
      problems.push({ variable: 'OTEL_TRACES_SAMPLER', problem: 'must be parentbased_always_on or parentbased_traceidratio' });
    }
  }
  const resourceAttributes = keyValueList(env.OTEL_RESOURCE_ATTRIBUTES);
  if (!resourceAttributes)
    problems.push({ variable: 'OTEL_RESOURCE_ATTRIBUTES', problem: 'must be key=value pairs separated by commas' });
  const headerLists: Record<string, Record<string, string>> = {};
  for (const variable of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    const parsed = keyValueList(env[variable]);
    if (parsed) headerLists[variable] = parsed;
    else problems.push({ variable, problem: 'must be name=value pairs separated by commas (values percent-encoded)' });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    exporter,
    otlpTracesUrl,
    // The spec's order: OTEL_SERVICE_NAME, then service.name in OTEL_RESOURCE_ATTRIBUTES.
    serviceName: env.OTEL_SERVICE_NAME?.trim() || resourceAttributes?.['service.name'] || undefined,
    sampleRatio,
    resourceAttributes: resourceAttributes ?? {},
    otlpHeaders: { ...headerLists.OTEL_EXPORTER_OTLP_HEADERS, ...headerLists.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
  };
}

interface TracingState {
  processor: SpanProcessor;
  sampler: Sampler;
  /** The process's own service (whose name OTEL_SERVICE_NAME may replace). */
  ownService?: string;
  serviceNameOverride?: string;
  resourceAttributes?: Record<string, string>;
  providers: Map<string, BasicTracerProvider>;
}

let state: TracingState | undefined;
// A proxy without a delegate is the API's no-op tracer, whatever global provider someone else registers.
const noopTracer: Tracer = new ProxyTracerProvider().getTracer('noop');
const propagator = new W3CTraceContextPropagator();
const NON_RECORDING_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
let contextManager: AsyncLocalStorageContextManager | undefined;

/** True when spans are recorded (an exporter is configured, or a test installed one). */
export function tracingEnabled(): boolean {
  return state !== undefined;
}

function enable(next: TracingState): void {
  if (!contextManager) {
    contextManager = new AsyncLocalStorageContextManager().enable();
    // The API keeps the first global it is given; replace whatever a previous setup left.
    context.disable();
    context.setGlobalContextManager(contextManager);
    propagation.disable();
    propagation.setGlobalPropagator(propagator);
  }
  state = next;
}

/**
 * Sets tracing up from the environment, once per process (later calls are ignored). `service` names
 * the process's own service when it runs one (full mode), so `OTEL_SERVICE_NAME` can rename it;
 * embedded mode passes none and every service keeps its own name. Returns whether tracing is on.
 */
export function configureTracing(
  env: Record<string, string | undefined> = process.env,
  options: { service?: string } = {},
): boolean {
  if (state) return true;
  const settings = tracingSettingsFromEnv(env);
  if (settings.exporter === 'none') return false;
  const exporter: SpanExporter =
    settings.exporter === 'console'
      ? new ConsoleSpanExporter()
      : new OTLPTraceExporter({ url: settings.otlpTracesUrl, headers: settings.otlpHeaders });
  enable({
    processor: new BatchSpanProcessor(exporter),
    sampler: new ParentBasedSampler({
      root: settings.sampleRatio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(settings.sampleRatio),
    }),
    ownService: options.service,
    serviceNameOverride: settings.serviceName,
    resourceAttributes: settings.resourceAttributes,
    providers: new Map(),
  });
  return true;
}

/**
 * Tests: records every span synchronously into `exporter` (e.g. an InMemorySpanExporter), whatever the
 * environment says. The returned function turns tracing off again.
 */
export function installTestSpanExporter(exporter: SpanExporter): () => Promise<void> {
  enable({ processor: new SimpleSpanProcessor(exporter), sampler: new AlwaysOnSampler(), providers: new Map() });
  return shutdownTracing;
}

/** Flushes and stops the exporter; tracing is off afterwards. */
export async function shutdownTracing(): Promise<void> {
  const current = state;
  state = undefined;
  if (current) await current.processor.shutdown().catch(() => {});
}

/** The tracer of one service (its spans carry its `service.name`); a no-op tracer while tracing is off. */
export function tracerFor(service: string): Tracer {
  const current = state;
  if (!current) return noopTracer;
  let provider = current.providers.get(service);
  if (!provider) {
    const name = current.ownService === service && current.serviceNameOverride ? current.serviceNameOverride : service;
    provider = new BasicTracerProvider({
      // Each service keeps its own name, even in embedded mode where several share the process's attributes.
      resource: resourceFromAttributes({
        'service.namespace': 'commerce-graph',
        ...current.resourceAttributes,
        'service.name': name,
      }),
      sampler: current.sampler,
      spanProcessors: [sharedProcessor(current.processor)],
    });
    current.providers.set(service, provider);
  }
  return provider.getTracer('@commerce/platform');
}

/** Lets several providers feed one processor without any of them shutting it down. */
function sharedProcessor(processor: SpanProcessor): SpanProcessor {
  return {
    onStart: (span, parent) => processor.onStart(span, parent),
    onEnd: (span) => processor.onEnd(span),
    forceFlush: () => processor.forceFlush(),
    shutdown: async () => {},
  };
}

/** Forces buffered spans out (tests, shutdown). */
export async function flushTraces(): Promise<void> {
  await state?.processor.forceFlush();
}

const TRACEPARENT = /^00-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/** The active span's `traceparent`, or undefined when there is no valid active span. */
export function activeTraceparent(ctx: Context = context.active()): string | undefined {
  const spanContext = trace.getSpanContext(ctx);
  if (!spanContext || !trace.isSpanContextValid(spanContext)) return undefined;
  return `00-${spanContext.traceId}-${spanContext.spanId}-0${(spanContext.traceFlags & 1).toString(16)}`;
}

/** The active span's ids, for log lines. */
export function activeSpanIds(): { traceId: string; spanId: string } | undefined {
  if (!state) return undefined;
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && trace.isSpanContextValid(spanContext)
    ? { traceId: spanContext.traceId, spanId: spanContext.spanId }
    : undefined;
}

/** A context whose remote parent is `traceparent` (ROOT when missing or malformed). */
export function contextFromTraceparent(traceparent: string | null | undefined, base: Context = ROOT_CONTEXT): Context {
  if (!traceparent || !TRACEPARENT.test(traceparent)) return base;
  return propagator.extract(base, { traceparent }, headerGetter);
}

/** A context continuing the trace of incoming HTTP (or message) headers. */
export function contextFromHeaders(
  headers: Record<string, string | string[] | undefined>,
  base: Context = ROOT_CONTEXT,
): Context {
  return propagator.extract(base, headers, headerGetter);
}

/** Writes the active span's `traceparent` into outgoing headers (nothing while tracing is off). */
export function injectTraceHeaders(headers: Record<string, string>, ctx: Context = context.active()): Record<string, string> {
  if (state) propagator.inject(ctx, headers, { set: (carrier, key, value) => void (carrier[key] = value) });
  return headers;
}

const headerGetter = {
  keys: (carrier: Record<string, string | string[] | undefined>) => Object.keys(carrier),
  get: (carrier: Record<string, string | string[] | undefined>, key: string) => carrier[key],
};

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  links?: Link[];
  /** The parent; default: the active context. */
  parent?: Context;
}

/**
 * Runs `fn` inside a new span of `service` (active for everything `fn` awaits), records a thrown error
 * on it and ends it. While tracing is off it only calls `fn` (with a non-recording span).
 */
export async function withSpan<T>(
  service: string,
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!state) return fn(NON_RECORDING_SPAN);
  const parent = options.parent ?? context.active();
  const span = tracerFor(service).startSpan(
    name,
    { kind: options.kind, attributes: options.attributes, links: options.links },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks a span failed with the error's name and message (never a stack with data in it). */
export function recordError(span: Span, error: unknown): void {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  span.recordException({ name, message });
  span.setStatus({ code: SpanStatusCode.ERROR, message: message.slice(0, 500) });
}

interface HttpRequestLike {
  method: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  context?: { traceId: string };
}
interface HttpResponseLike {
  statusCode: number;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/**
 * Express middleware: a SERVER span per request that continues the caller's `traceparent`; the
 * request's log lines (and its `traceId`) follow the span. Mount it on the GraphQL route only.
 */
export function httpServerSpan(service: string, route = '/graphql') {
  return (req: HttpRequestLike, res: HttpResponseLike, next: (error?: unknown) => void): void => {
    if (!state) return next();
    const parent = contextFromHeaders(req.headers);
    const span = tracerFor(service).startSpan(
      `${req.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': route, 'url.path': route } },
      parent,
    );
    const spanContext = span.spanContext();
    if (req.context && trace.isSpanContextValid(spanContext)) req.context.traceId = spanContext.traceId;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    context.with(trace.setSpan(parent, span), () => next());
  };
}

/**
 * A SERVER span for a request answered outside Express (the gateway's cache hit path): same name and
 * HTTP attributes as `httpServerSpan`, continuing the caller's `traceparent`, from `startTime` (ms since
 * the epoch, `performance.timeOrigin`-based) to now. No-op while tracing is off.
 */
export function recordServerSpan(
  service: string,
  request: { method: string; route: string; headers: Record<string, string | string[] | undefined> },
  startTime: number,
  statusCode: number,
  attributes: Attributes = {},
): void {
  if (!state) return;
  const span = tracerFor(service).startSpan(
    `${request.method} ${request.route}`,
    {
      kind: SpanKind.SERVER,
      startTime,
      attributes: {
        'http.request.method': request.method,
        'http.route': request.route,
        'url.path': request.route,
        'http.response.status_code': statusCode,
        ...attributes,
      },
    },
    contextFromHeaders(request.headers),
  );
  if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** Attributes on the active span (no-op while tracing is off or outside a span). */
export function setActiveSpanAttributes(attributes: Attributes): void {
  if (state) trace.getActiveSpan()?.setAttributes(attributes);
}

/** A span around one message on its way to the broker; `traceparent` is what the message should carry. */
export interface MessageSpan {
  readonly traceparent: string | null;
  end(error?: unknown): void;
}

/**
 * Starts a PRODUCER span for a message whose creation context is `traceparent` (the envelope's, written
 * with the outbox row): the span is that context's child, and the message travels on with the span's
 * own traceparent so its consumers become the producer's children. While tracing is off the message
 * keeps its traceparent unchanged.
 */
export function startProducerSpan(
  service: string,
  name: string,
  traceparent: string | null,
  attributes: Attributes = {},
): MessageSpan {
  if (!state) return { traceparent, end: () => {} };
  const parent = contextFromTraceparent(traceparent);
  const span = tracerFor(service).startSpan(name, { kind: SpanKind.PRODUCER, attributes }, parent);
  return {
    traceparent: activeTraceparent(trace.setSpan(parent, span)) ?? traceparent,
    end(error) {
      if (error !== undefined) recordError(span, error);
      span.end();
    },
  };
}

/**
 * Apollo Server plugin: names the GraphQL operation on the request's SERVER span
 * (`graphql.operation.name`, `graphql.operation.type`), so traces can be searched by operation.
 */
export function graphqlOperationSpanPlugin<Context extends BaseContext>(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      if (!state) return;
      return {
        async didResolveOperation({ operationName, operation }) {
          setActiveSpanAttributes({
            ...(operation ? { 'graphql.operation.type': operation.operation } : {}),
            ...(operationName ? { 'graphql.operation.name': operationName } : {}),
          });
        },
      };
    },
  };
}
