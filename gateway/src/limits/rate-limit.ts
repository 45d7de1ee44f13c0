/**
 * Rate limits per caller: the verified user id, or the client IP for anonymous requests. Counters live
 * in Redis in full mode (shared by every gateway instance) and in memory in embedded mode. When Redis
 * is unreachable the in-memory insurance limiter takes over, so limits stay in force per instance and
 * the gateway never fails because its counter store did. With Redis, the general budget's points are
 * taken in small leases sized by the caller's rate (`point-leases.ts`); the sensitive budget's one by one.
 */
import { GraphQLError, Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { Redis } from 'ioredis';
import {
  createRateLimiter,
  errorSummary,
  isRateLimiterRes,
  retryAfterSeconds,
  type Logger,
  type RateLimiterAbstract,
} from '@commerce/platform';
import type { RateLimitSettings } from '../config.ts';
import { PointLeases } from './point-leases.ts';
import type { GatewayContext } from '../context.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';

export interface RateLimiters {
  /** Every operation costs one point of the caller's budget. */
  general: RateLimiterAbstract;
  /** The general budget's points, taken in leases when the counters are shared (Redis). */
  generalPoints: PointLeases;
  /** Login, registration, token refresh and checkout: a much smaller budget per caller and field. */
  sensitive: RateLimiterAbstract;
}

/** The shared factory: Redis counters with an in-memory insurance limiter, or memory only (embedded mode). */
export function createRateLimiters(settings: RateLimitSettings, redis?: Redis, redisPrefix = 'gateway:'): RateLimiters {
  const general = createRateLimiter(
    { keyPrefix: `${redisPrefix}rl:general`, points: settings.points, durationSeconds: settings.windowSeconds },
    { redis },
  );
  return {
    general,
    // One set of leases per instance, shared by the normal path and the cache hit path.
    generalPoints: new PointLeases(general, { lease: !!redis }),
    sensitive: createRateLimiter(
      {
        keyPrefix: `${redisPrefix}rl:sensitive`,
        points: settings.sensitivePoints,
        durationSeconds: settings.sensitiveWindowSeconds,
      },
      { redis },
    ),
  };
}

/** Names of the operation's root fields, looking through fragments at the root. */
export function rootFieldNames(document: DocumentNode, operation: OperationDefinitionNode): Set<string> {
  const names = new Set<string>();
  const fragments = new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [],
    ),
  );
  const seen = new Set<string>();
  const collect = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) names.add(selection.name.value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  return names;
}

export function rateLimited(retryAfterSeconds: number, policy: string): GraphQLError {
  return new GraphQLError(`Too many requests; retry in ${retryAfterSeconds} s`, {
    extensions: {
      code: 'RATE_LIMITED',
      retryAfter: retryAfterSeconds,
      policy,
      http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) },
    },
  });
}

export function rateLimitPlugin(
  limiters: RateLimiters,
  settings: RateLimitSettings,
  logger: Logger,
  metrics?: GatewayMetrics,
): ApolloServerPlugin<GatewayContext> {
  const sensitiveFields = new Set(settings.sensitiveFields);
  const consume = async (limiterToUse: RateLimiterAbstract, key: string, policy: string) => {
    try {
      await limiterToUse.consume(key, 1);
    } catch (outcome) {
      if (isRateLimiterRes(outcome)) {
        metrics?.rateLimited.inc({ policy });
        throw rateLimited(retryAfterSeconds(outcome), policy);
      }
      // The store failed and no insurance could answer: serve the request rather than fail it.
      logger.warn({ err: errorSummary(outcome), policy }, 'rate limiter unavailable; request allowed');
    }
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, operation }) {
          const caller = contextValue.viewer ? `user:${contextValue.viewer.userId}` : `ip:${contextValue.clientIp}`;
          // Not leased, or the lease refused or failed: the limiter's own answer for this one point decides
          // (a 429 with its retry time, or the insurance limiter).
          const { generalPoints } = limiters;
          if (!(generalPoints.leased && (await generalPoints.spend(caller)))) await consume(limiters.general, caller, 'general');
          if (!operation || operation.operation === 'subscription') return;
          for (const field of rootFieldNames(document, operation)) {
            if (sensitiveFields.has(field)) await consume(limiters.sensitive, `${field}:${caller}`, field);
          }
        },
      };
    },
  };
}
