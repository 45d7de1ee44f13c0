import http from 'node:http';
import https from 'node:https';
import nodeFetch, { type RequestInit as NodeFetchInit } from 'node-fetch';
import { GraphQLError } from 'graphql';
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import {
  activeTraceparent,
  SpanKind,
  SUBGRAPH_TOKEN_HEADER,
  SUBGRAPH_TOKEN_REQUIRED,
  withSpan,
  type Logger,
  type SubgraphTokenSigner,
} from '@commerce/platform';
import type { GatewayContext } from '../context.ts';
import { takePrefetchedAnswer } from './single-fetch-passthrough.ts';

export interface SubgraphClientSettings {
  timeoutMs: number;
  maxSockets: number;
}

/**
 * One keep-alive connection pool per gateway for all subgraph calls, so a busy gateway reuses
 * sockets instead of paying a TCP handshake per fetch; every call has a hard timeout.
 */
export function createSubgraphFetcher({ timeoutMs, maxSockets }: SubgraphClientSettings) {
  const agentOptions = {
    keepAlive: true,
    keepAliveMsecs: 10_000,
    maxSockets,
    maxFreeSockets: Math.min(maxSockets, 16),
    timeout: timeoutMs,
  };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const fetcher = (url: string, init?: NodeFetchInit) =>
    nodeFetch(url, {
      ...init,
      agent: (parsed: URL) => (parsed.protocol === 'https:' ? httpsAgent : httpAgent),
      signal: AbortSignal.timeout(timeoutMs) as NodeFetchInit['signal'],
    });
  return {
    fetcher,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

export type SubgraphFetcher = ReturnType<typeof createSubgraphFetcher>['fetcher'];

const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

function unavailable(service: string, reason: string): GraphQLError {
  return new GraphQLError(`The ${service} service is unavailable right now; try again shortly`, {
    extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: service, reason },
  });
}

/**
 * Forwards the verified caller's token and the correlation ids to the subgraph, and turns transport
 * failures (refused connection, timeout, 502/503/504) into SERVICE_UNAVAILABLE for that part of the
 * query only — the query plan's other fetches still answer.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    readonly serviceName: string,
    url: string,
    fetcher: SubgraphFetcher,
    private readonly logger: Logger,
    private readonly tokens: SubgraphTokenSigner,
  ) {
    // The gateway honours each subgraph's Cache-Control header (its @cacheControl hints) by default.
    super({ url, fetcher: fetcher as unknown as RemoteGraphQLDataSource['fetcher'], honorSubgraphCacheControlHeader: true });
  }

  /** One CLIENT span per subgraph fetch; willSendRequest (inside it) hands its traceparent to the subgraph. */
  override process(options: GraphQLDataSourceProcessOptions<GatewayContext>): ReturnType<RemoteGraphQLDataSource['process']> {
    // The single-fetch pass-through already made this very call: its answer (or failure) stands.
    const prefetched = takePrefetchedAnswer(
      options.context as GatewayContext | undefined,
      this.serviceName,
      options.request.query,
      options.request.variables,
    );
    if (prefetched) return 'error' in prefetched ? Promise.reject(prefetched.error) : Promise.resolve(prefetched.response);
    return withSpan(
      'gateway',
      `subgraph ${this.serviceName}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'graphql.subgraph.name': this.serviceName,
          ...(options.request.operationName ? { 'graphql.operation.name': options.request.operationName } : {}),
        },
      },
      () => super.process(options),
    );
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    if (!request.http) return;
    // The gateway's proof for this subgraph (reused until near expiry): without it the subgraph answers 401.
    request.http.headers.set(SUBGRAPH_TOKEN_HEADER, this.tokens.tokenFor(this.serviceName));
    // Only a token the gateway itself verified travels on; it reached here only if it was valid.
    if (context.viewer && context.authorization) request.http.headers.set('authorization', context.authorization);
    // The client's address as the gateway saw it (replacing whatever the caller claimed), so the users
    // service can throttle failed logins per client rather than per gateway.
    if (context.clientIp) request.http.headers.set('x-forwarded-for', context.clientIp);
    if (context.request) {
      request.http.headers.set('x-request-id', context.request.requestId);
      // The fetch's span when tracing is on; otherwise the request's trace id (correlation only).
      request.http.headers.set('traceparent', activeTraceparent() ?? `00-${context.request.traceId}-${'0'.repeat(15)}1-01`);
    }
  }

  override didEncounterError(error: Error, _fetchRequest: unknown, fetchResponse?: { status: number }): void {
    if (fetchResponse?.status === 401 && refusedOurToken(error)) {
      // Not the client's fault: this gateway and the subgraph hold different SUBGRAPH_AUTH_KEYS.
      this.logger.error(
        { service: this.serviceName, reason: 'subgraph token refused' },
        'subgraph refused the gateway token: check that SUBGRAPH_AUTH_KEYS holds the same keys on both',
      );
      throw unavailable(this.serviceName, 'subgraph token refused');
    }
    if (fetchResponse && !UNAVAILABLE_STATUSES.has(fetchResponse.status)) throw error;
    const reason =
      error.name === 'AbortError' || /timeout|aborted/i.test(error.message)
        ? 'timeout'
        : fetchResponse
          ? `http ${fetchResponse.status}`
          : 'unreachable';
    this.logger.warn(
      { service: this.serviceName, reason, err: { name: error.name, message: error.message } },
      'subgraph call failed',
    );
    throw unavailable(this.serviceName, reason);
  }
}

/** The 401 a subgraph answers to a call without a valid access token (not a client's bad `Authorization`). */
function refusedOurToken(error: Error): boolean {
  const body = (error as { extensions?: { response?: { body?: unknown } } }).extensions?.response?.body as
    { errors?: { extensions?: { code?: unknown } }[] } | undefined;
  return body?.errors?.[0]?.extensions?.code === SUBGRAPH_TOKEN_REQUIRED;
}
