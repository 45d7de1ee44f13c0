/**
 * Rate limits per caller: the verified user id, or the client IP for anonymous requests — except for
 * auth fields (login, register, ...), which always count per client address (IPv6 per /64). Counters live
 * in Redis in full mode (shared by every gateway instance) and in memory in embedded mode. When Redis
 * is unreachable the in-memory insurance limiter takes over, so limits stay in force per instance and
 * the gateway never fails because its counter store did. With Redis, the general budget's points are
 * taken in small leases sized by the caller's rate (`point-leases.ts`); the sensitive budget's one by one.
 */
import {
  GraphQLError,
  Kind,
  type DocumentNode,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { Redis } from 'ioredis';
import {
  addressKey,
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
  /** Auth fields and fields that place orders or pay: a much smaller budget per caller and field, per use. */
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
  return new Set(rootFieldUses(document, operation).map((use) => use.field.name.value));
}

/** A root field node and how many times the operation selects it (through repeated fragment spreads). */
export interface RootFieldUse {
  field: FieldNode;
  times: number;
}

/**
 * Every use of a root field — each alias, each repetition and each spread of a fragment counts — so
 * three aliased `register`s cost three points, not one. Fragments are counted once and multiplied, so
 * fragments spreading fragments cannot make this exponential; cycles are refused by validation before
 * this runs (and would be cut here). `times` stops at `cap`: past any budget the exact count is moot.
 */
export function rootFieldUses(document: DocumentNode, operation: OperationDefinitionNode, cap = 10_000): RootFieldUse[] {
  const fragments = new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [],
    ),
  );
  /** fragment name → its root field uses with how many times each occurs */
  const memo = new Map<string, Map<FieldNode, number>>();
  const inProgress = new Set<string>();
  const countsOf = (selectionSet: SelectionSetNode): Map<FieldNode, number> => {
    const counts = new Map<FieldNode, number>();
    const add = (field: FieldNode, times: number) => counts.set(field, Math.min(cap, (counts.get(field) ?? 0) + times));
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) add(selection, 1);
      else if (selection.kind === Kind.INLINE_FRAGMENT)
        countsOf(selection.selectionSet).forEach((times, field) => add(field, times));
      else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || inProgress.has(name)) continue;
        let inner = memo.get(name);
        if (!inner) {
          inProgress.add(name);
          inner = countsOf(fragment.selectionSet);
          inProgress.delete(name);
          memo.set(name, inner);
        }
        inner.forEach((times, field) => add(field, times));
      }
    }
    return counts;
  };
  return [...countsOf(operation.selectionSet)].map(([field, times]) => ({ field, times }));
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
  const sensitiveFields = new Set([...settings.sensitiveFields, ...settings.addressFields]);
  const addressFields = new Set(settings.addressFields);
  const consume = async (limiterToUse: RateLimiterAbstract, key: string, policy: string, points = 1) => {
    try {
      await limiterToUse.consume(key, points);
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
          const address = `ip:${addressKey(contextValue.clientIp)}`;
          const caller = contextValue.viewer ? `user:${contextValue.viewer.userId}` : address;
          // Not leased, or the lease refused or failed: the limiter's own answer for this one point decides
          // (a 429 with its retry time, or the insurance limiter).
          const { generalPoints } = limiters;
          if (!(generalPoints.leased && (await generalPoints.spend(caller)))) await consume(limiters.general, caller, 'general');
          if (!operation || operation.operation === 'subscription') return;
          // key → points: every use of a sensitive field is one point, and a request over the remaining
          // budget is refused as a whole (nothing of it runs).
          const charges = new Map<string, { policy: string; points: number }>();
          const charge = (key: string, policy: string, times: number) => {
            const entry = charges.get(key);
            if (entry) entry.points += times;
            else charges.set(key, { policy, points: times });
          };
          for (const { field, times } of rootFieldUses(document, operation, settings.sensitivePoints + 1)) {
            const name = field.name.value;
            if (!sensitiveFields.has(name)) continue;
            if (!addressFields.has(name)) {
              charge(`${name}:${caller}`, name, times);
              continue;
            }
            // Auth fields count per client address whatever token comes along (a fresh throwaway token
            // per guess must not buy a fresh budget). Never per named account: anyone can name any email,
            // so such a key let strangers lock its owner out of login (or stop an email registering).
            // Guesses at one account from many addresses are paced by the users service's throttle, which
            // never locks the owner out. changePassword also counts per signed-in user: only they send it.
            charge(`${name}:${address}`, name, times);
            if (name === 'changePassword' && contextValue.viewer)
              charge(`${name}:acct:user:${contextValue.viewer.userId}`, name, times);
          }
          for (const [key, { policy, points }] of charges) await consume(limiters.sensitive, key, policy, points);
        },
      };
    },
  };
}
