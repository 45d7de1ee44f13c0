import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Request } from 'express';
import { PAYLOAD_TOO_LARGE } from './errors.ts';
import type { Logger } from './logger.ts';
import type { ServiceMetrics } from './metrics.ts';
import { requestContextFromHeaders, runWithRequestContext, type RequestContext } from './request-context.ts';
import { parseQueryString } from './client-address.ts';

declare module 'express-serve-static-core' {
  interface Request {
    context: RequestContext;
  }
}

/**
 * What a readiness check says: ready or not, optionally with details an operator reads in the `/ready`
 * body (e.g. `starting`: what is still starting in the background while the service already serves).
 */
export type Readiness = boolean | ({ ready: boolean } & Record<string, unknown>);

export interface HttpAppOptions {
  logger: Logger;
  metrics: ServiceMetrics;
  /** Proxies whose X-Forwarded-For is believed for `req.ip` (`env.trustProxy`: hops, or e.g. "loopback, 10.0.0.0/8"). Default: loopback. */
  trustProxy?: string | number;
}

/**
 * The client-facing HTTP shell every service shares: request/trace ids, access log, latency metrics.
 * It serves no `/health`, `/ready` or `/metrics`: those are on the management port
 * (`startManagementServer`), which the ingress does not route to, so clients cannot read operation
 * names, error counts or rate-limit counters.
 */
export function createHttpApp({ logger, metrics, trustProxy }: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxy ?? 'loopback');
  // Every parameter, as Apollo reads it: Express's default parser drops those past the first 1,000.
  app.set('query parser', parseQueryString);

  app.use((req, res, next) => {
    req.context = requestContextFromHeaders(req.headers);
    res.setHeader('x-request-id', req.context.requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // A path no route matched is one label value: the raw path would let any client mint new series without end.
      const route = req.route?.path ?? req.baseUrl;
      metrics.httpDuration.observe(
        { method: req.method, route: String(route || 'unmatched'), status: String(res.statusCode) },
        seconds,
      );
      logger.debug(
        {
          requestId: req.context.requestId,
          traceId: req.context.traceId,
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
        },
        'request finished',
      );
    });
    runWithRequestContext(req.context, next);
  });
  return app;
}

export interface ManagementServerOptions {
  logger: Logger;
  metrics: Pick<ServiceMetrics, 'registry'>;
  /** Readiness: dependencies answer (database, supergraph loaded); details go into the answer's body. */
  ready?: () => Promise<Readiness>;
  /** 0 picks a free port (tests); the bound one is in `ManagementServer.port`. */
  port: number;
  host: string;
}

/** Where a service's management listener really is (port 0 resolved). */
export interface ManagementAddress {
  host: string;
  port: number;
  /** Base URL to reach it from this machine, e.g. `http://127.0.0.1:9401` (append `/metrics`). */
  url: string;
}

export interface ManagementServer extends ManagementAddress {
  /** From now on `/ready` answers 503 (the service is shutting down); `/health` and `/metrics` still answer. */
  drain(): void;
  close(): Promise<void>;
}

/**
 * The management listener every service has next to its client-facing one: `/health` (process alive),
 * `/ready` (dependencies answer) and `/metrics` (Prometheus). Only probes and Prometheus reach it
 * (its own port, `MANAGEMENT_HOST`, no ingress route); its requests are not counted as client traffic.
 */
export async function startManagementServer({
  logger,
  metrics,
  ready,
  port,
  host,
}: ManagementServerOptions): Promise<ManagementServer> {
  let draining = false;
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', async (_req, res) => {
    let readiness: Readiness = false;
    try {
      readiness = draining ? false : ready ? await ready() : true;
    } catch (error) {
      logger.warn({ err: errorSummary(error) }, 'readiness check failed');
    }
    const { ready: isReady, ...details } = typeof readiness === 'boolean' ? { ready: readiness } : readiness;
    res.status(isReady ? 200 : 503).json({ status: isReady ? 'ready' : 'not ready', ...details });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  const server = http.createServer(app);
  const bound = await listen(server, port, host);
  const address = managementAddress(host, bound);
  logger.info({ managementPort: bound, managementHost: host }, 'management listening');
  return {
    ...address,
    drain() {
      draining = true;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps its scrape connection open; it must not hold the shutdown up.
        server.closeAllConnections();
      });
    },
  };
}

const managementAddress = (host: string, port: number): ManagementAddress => {
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  return { host, port, url: `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}` };
};

/**
 * Last handler of every app: body-parser and other HTTP-level failures answer as a GraphQL-shaped
 * error with a stable code, never Express's HTML page with a stack trace.
 */
export function httpErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
    const clientError = status >= 400 && status < 500;
    if (!clientError) logger.error({ err: errorSummary(error) }, 'unhandled HTTP error');
    const message =
      status === 413 ? 'Request body is too large' : clientError ? 'Malformed request body' : 'Internal server error';
    res.status(clientError ? status : 500).json({
      errors: [
        {
          message,
          extensions: { code: errorCodeFor(status), requestId: req.context?.requestId },
        },
      ],
    });
  };
}

/** A body over the limit has its own code: the client must send less, not fix its syntax. */
const errorCodeFor = (status: number) =>
  status === 413 ? PAYLOAD_TOO_LARGE : status >= 400 && status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR';

export function errorSummary(error: unknown): { name: string; message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

export async function listen(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export type { Request };
