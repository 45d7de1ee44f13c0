/**
 * The cache hit path: answers anonymous, cacheable queries from stored response bytes in front of
 * Express and Apollo (docs/benchmarks.md, optimisation 3). Everything it cannot answer — and every
 * request it is unsure about — falls through to the normal path untouched.
 *
 * - What it serves: an in-process copy (L1) of a response the normal path answered from the response
 *   cache (L2: memory or Redis) — the exact bytes and headers of that answer, keyed by the raw request
 *   (POST body bytes or GET URL, plus the request headers the answer depends on: Origin, Accept,
 *   Content-Type). Only anonymous requests (no Authorization, no Cookie), only PUBLIC answers without
 *   errors, only operations without rate-limit-sensitive root fields, and only what passed every
 *   check of the normal path (safelist, limits, CSRF) for the very same bytes.
 * - TTL: a copy lives no longer than the L2 entry it mirrors (max-age minus the age it had, rounded
 *   down); the `age` header is recomputed on every hit.
 * - Purges: every purge raises the store's purge epoch before deleting anything, and again after. A copy is served only
 *   when the epoch read *after the request arrived* still equals the epoch known before the copy's
 *   answer was computed — in memory that is a field; with Redis the epoch every purge publishes on a
 *   pub/sub channel (`purge-epoch-feed.ts`), so a purge made by any instance is seen by every instance
 *   as soon as the message arrives; while that feed is not confirmed, one GET per hit (shared by all
 *   hits waiting at that moment), so it is seen by the next request.
 * - Rate limits: every hit spends the caller's points in the same limiter and key as the normal path
 *   (`ip:<client address>`, the address Express would compute). With Redis the hit path takes points in
 *   small leases sized by the caller's rate (`point-leases.ts`): an instance may spend a leased point a
 *   moment later than it was taken, never one that was not taken.
 * - The body limit, JSON parsing errors, CSRF rules and everything else stay the normal path's: a
 *   request the hit path read but cannot answer goes on with its body replayed to Express's parser.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Express, RequestHandler } from 'express';
import { addressKey, errorSummary, recordServerSpan, tracingEnabled, type Histogram, type Logger } from '@commerce/platform';
import type { GatewayContext } from '../context.ts';
import type { PointLeases } from '../limits/point-leases.ts';
import { rootFieldNames } from '../limits/rate-limit.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { CacheStore } from './store.ts';

const TICKET = Symbol('hitPathTicket');
const PRE_READ_BODY = Symbol('hitPathPreReadBody');

/** What the normal path needs to hand a response back to the hit path. */
export interface HitPathTicket {
  key: string;
  /** The purge epoch known before the request arrived: a copy made from this answer is valid only while it holds. */
  epoch: number;
  fill?: { maxAgeSeconds: number; ageSeconds: number; operation: string; operationName: string | null };
}

interface Entry {
  key: string;
  body: Buffer;
  /** Flat [name, value, ...] in the normal path's order; `x-request-id` and `age` are replaced per hit. */
  headers: string[];
  requestIdIndex: number;
  ageIndex: number;
  /** The cache time implied by the `age` the normal path sent (within a second). */
  cacheTime: number;
  expiresAt: number;
  epoch: number;
  size: number;
  operations: { inc(): void };
  duration: { observe(value: number): void };
  /** For the hit's span (the metrics' label is bounded; the span names what the client sent). */
  operationName: string | null;
}

export interface HitPathOptions {
  app: Express;
  store: CacheStore;
  /** The general rate limit's points (leased when shared in Redis), shared with the normal path. */
  points: PointLeases;
  bodyLimitBytes: number;
  maxBytes: number;
  maxEntries?: number;
  metrics: GatewayMetrics;
  logger: Logger;
  operationLabel: (name: string | null | undefined) => string;
  sensitiveFields: string[];
  /** Tests move time; production uses Date.now. */
  now?: () => number;
}

export interface HitPathStats {
  hits: number;
  misses: number;
  fills: number;
  entries: number;
  bytes: number;
}

export interface HitPath {
  listener: RequestListener;
  /** Apollo plugin that marks answers the hit path may copy; list it after the response-cache plugin. */
  plugin: ApolloServerPlugin<GatewayContext>;
  /** Replaces `express.json(...)` on the GraphQL route: parses a body the hit path already read. */
  jsonBody(parser: RequestHandler): RequestHandler;
  stats(): HitPathStats;
  clear(): void;
}

type PreReadRequest = IncomingMessage & { [TICKET]?: HitPathTicket; [PRE_READ_BODY]?: Buffer };

export function ticketOf(req: IncomingMessage): HitPathTicket | undefined {
  return (req as PreReadRequest)[TICKET];
}

/** A stand-in for the request stream that yields the bytes the hit path read, for body-parser. */
function replayRequest(req: IncomingMessage, body: Buffer): IncomingMessage {
  // A Readable, not a Duplex: on-finished would take a writable stream for a response.
  const stream = new Readable({ read() {} });
  const replay = stream as unknown as IncomingMessage & { complete: boolean };
  Object.assign(replay, { headers: req.headers, method: req.method, url: req.url, socket: req.socket, complete: false });
  replay.on('end', () => (replay.complete = true));
  stream.push(body);
  stream.push(null);
  return replay;
}

/**
 * Express's `req.ip` for a bare request: the getter `app.request` inherits (it lives on Express's request
 * prototype, not on `app.request` itself), read through a view with this request's headers and socket, so
 * the app's trust-proxy setting decides exactly as it does for the normal path.
 */
function clientIpReader(app: Express): (req: IncomingMessage) => string {
  return (req) => {
    // Without X-Forwarded-For, Express's answer is the socket's address whatever the trust setting.
    if (req.headers['x-forwarded-for'] === undefined && req.socket.remoteAddress) return req.socket.remoteAddress;
    const view = Object.create(app.request as object, {
      headers: { value: req.headers },
      socket: { value: req.socket },
      connection: { value: req.socket },
    }) as { ip?: string };
    return view.ip ?? req.socket.remoteAddress ?? 'unknown';
  };
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

export function createHitPath(options: HitPathOptions): HitPath {
  const { app, store, metrics, logger } = options;
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const sensitive = new Set(options.sensitiveFields);
  const clientIp = clientIpReader(app);
  const entries = new Map<string, Entry>();
  let bytes = 0;
  const counts = { hits: 0, misses: 0, fills: 0 };
  let knownEpoch = 0;
  let lastWarning = 0;
  const logWarning = (error: unknown, message: string) => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    logger.warn({ err: errorSummary(error) }, message);
  };
  const hitCounter = metrics.responseCache.labels({ result: 'hit' });
  const httpDurations = new Map<string, ReturnType<Histogram<'method' | 'route' | 'status'>['labels']>>();
  const httpDuration = (method: string) => {
    let child = httpDurations.get(method);
    if (!child) httpDurations.set(method, (child = metrics.httpDuration.labels({ method, route: '/graphql', status: '200' })));
    return child;
  };

  // --- purge epoch -------------------------------------------------------------------------------
  // Memory, and Redis while its pub/sub feed is confirmed, answer at once; otherwise Redis is asked,
  // and concurrent hits share one GET.
  if (store.currentPurgeEpoch() === undefined) Promise.resolve(store.purgeEpoch()).then(observeEpoch, () => undefined);
  let inflight: Promise<number> | undefined;
  let following: Promise<number> | undefined;
  /** An epoch read that started after this call. */
  const freshEpoch = (): number | Promise<number> => {
    const known = store.currentPurgeEpoch();
    if (known !== undefined) return known;
    // A read already on its way may have been sent before this request arrived: wait for the next one.
    if (inflight) {
      following ??= inflight
        .catch(() => 0)
        .then(() => {
          following = undefined;
          return freshEpoch();
        });
      return following;
    }
    inflight = Promise.resolve(store.purgeEpoch()).finally(() => (inflight = undefined));
    return inflight;
  };
  function observeEpoch(epoch: number) {
    if (epoch > knownEpoch) {
      knownEpoch = epoch;
      clear();
    }
  }
  /** The epoch an answer computed from now on is at least as new as (Redis without a feed: the last one seen). */
  const epochBeforeArrival = () => store.currentPurgeEpoch() ?? knownEpoch;

  // --- rate limit --------------------------------------------------------------------------------
  const { points } = options;

  // --- L1 ----------------------------------------------------------------------------------------
  function clear() {
    entries.clear();
    bytes = 0;
  }
  const remove = (entry: Entry) => {
    if (entries.get(entry.key) === entry) {
      entries.delete(entry.key);
      bytes -= entry.size;
    }
  };
  const insert = (entry: Entry) => {
    const previous = entries.get(entry.key);
    if (previous) remove(previous);
    if (entry.size > options.maxBytes / 4) return;
    // Oldest first: a Map iterates in insertion order.
    for (const oldest of entries.values()) {
      if (bytes + entry.size <= options.maxBytes && entries.size < maxEntries) break;
      remove(oldest);
    }
    entries.set(entry.key, entry);
    bytes += entry.size;
    counts.fills++;
  };

  // --- request handling --------------------------------------------------------------------------
  /** The key of a request the hit path may answer, or undefined (it goes straight to Express). */
  const keyOf = (req: IncomingMessage): { key: string; length: number } | undefined => {
    const { headers } = req;
    if (headers.authorization !== undefined || headers.cookie !== undefined) return undefined;
    if (headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined) return undefined;
    const url = req.url ?? '';
    const prefix = `${headers.origin ?? ''}\n${headers.accept ?? ''}\n${headers['content-type'] ?? ''}\n`;
    if (req.method === 'POST') {
      if (url !== '/graphql') return undefined;
      const encoding = headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return undefined;
      if (headers['transfer-encoding'] !== undefined) return undefined;
      // A non-simple content type: Apollo's CSRF prevention lets it through; anything else is its to judge.
      const type = headers['content-type']?.toLowerCase().replace(/\s+/g, '');
      if (type !== 'application/json' && type !== 'application/json;charset=utf-8') return undefined;
      const length = Number(headers['content-length']);
      if (!Number.isInteger(length) || length <= 0 || length > options.bodyLimitBytes) return undefined;
      return { key: `P\n${prefix}`, length };
    }
    if (req.method === 'GET') {
      if (!url.startsWith('/graphql?')) return undefined;
      // Without one of these headers Apollo's CSRF prevention refuses a GET: leave that to it.
      const preflight = single(headers['apollo-require-preflight']) || single(headers['x-apollo-operation-name']);
      if (!preflight) return undefined;
      return { key: `G\n${prefix}${url}`, length: 0 };
    }
    return undefined;
  };

  const fallThrough = (req: PreReadRequest, res: ServerResponse, key: string, body: Buffer | undefined) => {
    counts.misses++;
    if (body) req[PRE_READ_BODY] = body;
    // Batches (a JSON array) are the normal path's alone.
    const batch = body !== undefined && body.toString('latin1', 0, Math.min(body.length, 64)).trimStart().startsWith('[');
    if (!batch) {
      const ticket: HitPathTicket = { key, epoch: epochBeforeArrival() };
      req[TICKET] = ticket;
      captureForFill(res, ticket);
    }
    app(req, res);
  };

  const captureForFill = (res: ServerResponse, ticket: HitPathTicket) => {
    const chunks: Buffer[] = [];
    const collect = (chunk: unknown, encoding?: unknown) => {
      if (typeof chunk === 'string')
        chunks.push(Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    };
    const write = res.write;
    const end = res.end;
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      collect(chunk, rest[0]);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      if (typeof chunk !== 'function') collect(chunk, rest[0]);
      return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as ServerResponse['end'];
    res.once('finish', () => {
      try {
        fill(res, ticket, chunks);
      } catch (error) {
        logger.error({ err: errorSummary(error) }, 'hit path: could not keep a response');
      }
    });
  };

  const fill = (res: ServerResponse, ticket: HitPathTicket, chunks: Buffer[]) => {
    const { fill: answer } = ticket;
    if (!answer || res.statusCode !== 200) return;
    const local = store.currentPurgeEpoch();
    if (local !== undefined && local !== ticket.epoch) return; // purged while this was answered
    const at = now();
    const expiresAt = at + (answer.maxAgeSeconds - answer.ageSeconds - 0.5) * 1000;
    if (expiresAt <= at) return;
    const body = Buffer.concat(chunks);
    const headers: string[] = [];
    let requestIdIndex = -1;
    let ageIndex = -1;
    for (const name of res.getHeaderNames()) {
      const value = res.getHeader(name);
      if (value === undefined) continue;
      if (name === 'x-request-id') requestIdIndex = headers.length + 1;
      if (name === 'age') ageIndex = headers.length + 1;
      if (Array.isArray(value)) for (const item of value) headers.push(name, item);
      else headers.push(name, String(value));
    }
    if (requestIdIndex < 0 || ageIndex < 0) return;
    if (Number(res.getHeader('content-length')) !== body.length) return;
    const size = body.length + ticket.key.length * 2 + headers.reduce((sum, item) => sum + item.length * 2, 0) + 256;
    const type = 'query';
    insert({
      key: ticket.key,
      body,
      headers,
      requestIdIndex,
      ageIndex,
      cacheTime: at - answer.ageSeconds * 1000,
      expiresAt,
      epoch: ticket.epoch,
      size,
      operations: metrics.operations.labels({ operation: answer.operation, type }),
      duration: metrics.operationDuration.labels({ operation: answer.operation, type }),
      operationName: answer.operationName,
    });
  };

  // Synchronous whenever the epoch and a leased point are at hand (the common case): no promise per hit.
  const serve = (req: PreReadRequest, res: ServerResponse, key: string, body: Buffer | undefined): void | Promise<void> => {
    const started = performance.now();
    const entry = entries.get(key);
    if (!entry) return fallThrough(req, res, key, body);
    if (now() >= entry.expiresAt) {
      remove(entry);
      return fallThrough(req, res, key, body);
    }
    const epochNow = freshEpoch();
    if (typeof epochNow === 'number') return afterEpoch(req, res, key, body, entry, epochNow, started);
    return epochNow.then(
      (epoch) => afterEpoch(req, res, key, body, entry, epoch, started),
      (error: unknown) => {
        logWarning(error, 'hit path: purge epoch unreadable; serving through the normal path');
        return fallThrough(req, res, key, body);
      },
    );
  };

  const afterEpoch = (
    req: PreReadRequest,
    res: ServerResponse,
    key: string,
    body: Buffer | undefined,
    entry: Entry,
    epoch: number,
    started: number,
  ): void | Promise<void> => {
    observeEpoch(epoch);
    if (epoch !== entry.epoch) {
      remove(entry);
      return fallThrough(req, res, key, body);
    }
    // A purge landing while the limiter answers is concurrent with this request: either order is a true answer.
    const caller = `ip:${addressKey(clientIp(req))}`; // as the normal path keys it
    if (points.takeFromLease(caller)) return answer(req, res, entry, started);
    return points
      .spend(caller)
      .then((allowed) => (allowed ? answer(req, res, entry, started) : fallThrough(req, res, key, body)));
  };

  const answer = (req: PreReadRequest, res: ServerResponse, entry: Entry, started: number) => {
    const headers = entry.headers.slice();
    const requestId = single(req.headers['x-request-id']);
    headers[entry.requestIdIndex] = requestId && REQUEST_ID.test(requestId) ? requestId : randomUUID();
    headers[entry.ageIndex] = String(Math.round((now() - entry.cacheTime) / 1000));
    res.writeHead(200, headers);
    res.end(entry.body);
    counts.hits++;
    const seconds = (performance.now() - started) / 1000;
    hitCounter.inc();
    entry.operations.inc();
    entry.duration.observe(seconds);
    httpDuration(req.method!).observe(seconds);
    // Hits belong in traces too (sampled like every request); one boolean check while tracing is off.
    if (tracingEnabled()) {
      recordServerSpan(
        'gateway',
        { method: req.method!, route: '/graphql', headers: req.headers },
        performance.timeOrigin + started,
        200,
        {
          'graphql.operation.type': 'query',
          ...(entry.operationName ? { 'graphql.operation.name': entry.operationName } : {}),
          'gateway.cache.hit_path': true,
        },
      );
    }
  };

  /** Runs serve, turning a throw or a rejection into a 500 (never an unhandled rejection). */
  const serveSafely = (req: PreReadRequest, res: ServerResponse, key: string, body: Buffer | undefined) => {
    try {
      const pending = serve(req, res, key, body);
      if (pending) pending.catch((error: unknown) => failed(res, error));
    } catch (error) {
      failed(res, error);
    }
  };

  const failed = (res: ServerResponse, error: unknown) => {
    logger.error({ err: errorSummary(error) }, 'hit path failed');
    if (!res.headersSent) {
      res.statusCode = 500;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
    } else res.destroy();
  };

  const listener: RequestListener = (req, res) => {
    const candidate = keyOf(req);
    if (!candidate) {
      app(req, res);
      return;
    }
    if (req.method === 'GET') {
      serveSafely(req, res, candidate.key, undefined);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    req.once('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
      serveSafely(req, res, candidate.key + body.toString('latin1'), body);
    });
    // The client went away mid-body: nobody is left to answer.
    req.once('error', () => res.destroy());
  };

  const plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      return {
        async willSendResponse(requestContext) {
          const { contextValue, response, operation, document } = requestContext;
          const ticket = contextValue.hitPathTicket;
          if (!ticket || contextValue.viewer || !operation || !document) return;
          if (operation.operation !== 'query' || requestContext.metrics.responseCacheHit !== true) return;
          if (response.body.kind !== 'single' || response.body.singleResult.errors) return;
          const policy = requestContext.overallCachePolicy.policyIfCacheable();
          if (!policy || policy.scope === 'PRIVATE') return;
          const age = Number(response.http.headers.get('age'));
          if (!Number.isFinite(age)) return;
          for (const field of rootFieldNames(document, operation)) if (sensitive.has(field)) return;
          ticket.fill = {
            maxAgeSeconds: policy.maxAge,
            ageSeconds: age,
            operation: options.operationLabel(requestContext.operationName),
            operationName: requestContext.operationName ?? null,
          };
        },
      };
    },
  };

  const jsonBody =
    (parser: RequestHandler): RequestHandler =>
    (req, res, next) => {
      const body = (req as unknown as PreReadRequest)[PRE_READ_BODY];
      if (!body) return parser(req, res, next);
      const replay = replayRequest(req, body) as unknown as typeof req;
      parser(replay, res, (error?: unknown) => {
        if (!error) req.body = (replay as { body?: unknown }).body;
        next(error);
      });
    };

  return {
    listener,
    plugin,
    jsonBody,
    stats: () => ({ ...counts, entries: entries.size, bytes }),
    clear,
  };
}
