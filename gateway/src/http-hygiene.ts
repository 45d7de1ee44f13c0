/**
 * HTTP-level protections in front of the GraphQL endpoint: security headers, a CORS allow-list, a
 * body size limit, a bound on batched operations, and GraphQL-shaped answers for HTTP failures.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import cors from 'cors';
import helmet from 'helmet';
import { httpErrorHandler, PAYLOAD_TOO_LARGE, type Logger } from '@commerce/platform';
import { limitExceeded } from './limits/query-limits.ts';
import type { GatewayMetrics } from './observability/metrics.ts';

/**
 * Helmet's settings for the API: it answers JSON only, so nothing may be framed, embedded or executed
 * from its responses. The headers that only matter to HTML documents or retired browsers and plugins
 * (X-XSS-Protection, X-Download-Options for IE8, X-DNS-Prefetch-Control, X-Permitted-Cross-Domain-
 * Policies for Flash, Origin-Agent-Cluster) are left out, as OWASP's REST security guidance does:
 * 5 fewer headers on every answer (docs/benchmarks.md, optimisation 6). The playground page keeps its own.
 */
export const API_HELMET_OPTIONS = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginResourcePolicy: { policy: 'same-site' },
  frameguard: { action: 'deny' },
  xXssProtection: false,
  xDownloadOptions: false,
  xDnsPrefetchControl: false,
  xPermittedCrossDomainPolicies: false,
  originAgentCluster: false,
} as const satisfies Parameters<typeof helmet>[0];

export const apiSecurityHeaders = (): RequestHandler => precomputedHeaders(helmet(API_HELMET_OPTIONS));

/**
 * Runs a header-only middleware whose headers never depend on the request (helmet with static
 * directives) once, and replays what it did: one middleware setting a fixed list instead of helmet's
 * chain of twelve on every request (docs/benchmarks.md, optimisation 4). Same headers, same order.
 */
export function precomputedHeaders(middleware: RequestHandler): RequestHandler {
  const steps: { set?: [string, string | number | readonly string[]]; remove?: string }[] = [];
  let called = false;
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => steps.push({ set: [name, value] }),
    removeHeader: (name: string) => steps.push({ remove: name }),
  };
  middleware({} as never, recorder as never, (error?: unknown) => {
    if (error) throw error;
    called = true;
  });
  if (!called) throw new Error('precomputedHeaders: the middleware did not finish synchronously');
  return (_req, res, next) => {
    for (const step of steps) {
      if (step.set) res.setHeader(step.set[0], step.set[1]);
      else res.removeHeader(step.remove!);
    }
    next();
  };
}

/** Browsers may call the graph only from listed origins; requests without an Origin (apps, servers) are unaffected. */
export const corsAllowList = (origins: string[]): RequestHandler =>
  cors({
    origin: (origin, callback) => callback(null, origin !== undefined && origins.includes(origin)),
    methods: ['GET', 'POST'],
    allowedHeaders: [
      'content-type',
      'authorization',
      'apollo-require-preflight',
      'x-apollo-operation-name',
      'x-request-id',
      'traceparent',
    ],
    exposedHeaders: ['x-request-id', 'retry-after'],
    maxAge: 600,
  });

/**
 * Apollo executes a JSON array body as a batch; the batch size is bounded here (0 or 1 disables
 * batching) so one HTTP request cannot carry an unbounded number of operations past the rate limiter.
 */
export function batchLimit(maxBatchSize: number, metrics?: GatewayMetrics): RequestHandler {
  return (req, res, next) => {
    if (!Array.isArray(req.body)) return next();
    const batching = maxBatchSize > 1;
    if (batching && req.body.length <= maxBatchSize) return next();
    const allowed = batching ? maxBatchSize : 1;
    metrics?.limitRejections.inc({ limit: 'batchSize' });
    const error = limitExceeded(
      'batchSize',
      allowed,
      req.body.length,
      !batching
        ? 'Batched operations are not accepted'
        : `Batch limit of ${allowed} operations exceeded, found ${req.body.length}.`,
    );
    const { http: _http, ...extensions } = error.extensions;
    res
      .status(400)
      .json({ errors: [{ message: error.message, extensions: { ...extensions, requestId: req.context?.requestId } }] });
  };
}

/** A body over the limit names the limit; everything else falls to the platform's shared handler. */
export function gatewayHttpErrorHandler(logger: Logger, bodyLimitBytes: number, metrics?: GatewayMetrics): ErrorRequestHandler {
  const shared = httpErrorHandler(logger);
  return (error: unknown, req, res, next) => {
    if ((error as { status?: unknown }).status === 413) {
      metrics?.limitRejections.inc({ limit: 'bodyBytes' });
      // Its own code (not QUERY_TOO_COMPLEX): a client must send less (or use APQ), not simplify the query.
      res.status(413).json({
        errors: [
          {
            message: `Request body is larger than ${bodyLimitBytes} bytes`,
            extensions: {
              code: PAYLOAD_TOO_LARGE,
              limit: 'bodyBytes',
              allowed: bodyLimitBytes,
              requestId: req.context?.requestId,
            },
          },
        ],
      });
      return;
    }
    shared(error, req, res, next);
  };
}
