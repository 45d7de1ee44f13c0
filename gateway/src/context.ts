import type { Authenticator, RequestContext, Viewer } from '@commerce/platform';
import { authenticateOrThrow } from '@commerce/platform';
import type { Request } from 'express';
import { ticketOf, type HitPathTicket } from './cache/hit-path.ts';
import type { PrefetchedOutcome } from './subgraphs/single-fetch-passthrough.ts';

/** What every gateway plugin and data source knows about the request. */
export interface GatewayContext {
  request: RequestContext;
  /** The verified caller; null for anonymous requests (a bad token never gets this far). */
  viewer: Viewer | null;
  /** The raw header, forwarded to subgraphs only together with a verified viewer. */
  authorization?: string;
  clientIp: string;
  /** When the gateway received the request; the response cache refuses to store data older than a purge. */
  receivedAt: number;
  /** Set when the cache hit path may keep a copy of this answer (`cache/hit-path.ts`). */
  hitPathTicket?: HitPathTicket;
  /** Subgraph answers the single-fetch pass-through received and hands to the normal executor, by call. */
  prefetchedSubgraphAnswers?: Map<string, PrefetchedOutcome>;
}

/**
 * Verifies the bearer token once at the edge. A token that is present but invalid is answered with
 * UNAUTHENTICATED and HTTP 401 — never a silent downgrade to anonymous.
 */
export function createContextFactory(authenticate: Authenticator) {
  return async ({ req }: { req: Request }): Promise<GatewayContext> => {
    const authorization = req.headers.authorization;
    const viewer = await authenticateOrThrow(authenticate, authorization);
    return {
      request: req.context,
      viewer,
      authorization: viewer ? authorization : undefined,
      clientIp: req.ip ?? req.socket.remoteAddress ?? 'unknown',
      receivedAt: Date.now(),
      hitPathTicket: ticketOf(req),
    };
  };
}
