import type { ApolloServerPlugin } from '@apollo/server';
import { Counter, Histogram, createServiceMetrics, type ServiceMetrics } from '@commerce/platform';
import type { GatewayContext } from '../context.ts';

export interface GatewayMetrics extends ServiceMetrics {
  operations: Counter<'operation' | 'type'>;
  operationDuration: Histogram<'operation' | 'type'>;
  responseCache: Counter<'result'>;
  cachePurges: Counter<'event'>;
  cachePurgedEntries: Counter;
  rateLimited: Counter<'policy'>;
  limitRejections: Counter<'limit'>;
}

/** Prometheus series of the gateway, on top of the shared HTTP latency and error-code ones. */
export function createGatewayMetrics(): GatewayMetrics {
  const base = createServiceMetrics('gateway');
  const registers = [base.registry];
  return {
    ...base,
    operations: new Counter({
      name: 'graphql_operations_total',
      help: 'GraphQL operations received, by operation name and type',
      labelNames: ['operation', 'type'] as const,
      registers,
    }),
    operationDuration: new Histogram({
      name: 'graphql_operation_duration_seconds',
      help: 'Latency of GraphQL operations, by operation name and type',
      labelNames: ['operation', 'type'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    responseCache: new Counter({
      name: 'gateway_response_cache_lookups_total',
      help: 'Response cache lookups for queries, by result (hit or miss)',
      labelNames: ['result'] as const,
      registers,
    }),
    cachePurges: new Counter({
      name: 'gateway_response_cache_purge_events_total',
      help: 'Catalog events that purged cached responses, by event type',
      labelNames: ['event'] as const,
      registers,
    }),
    cachePurgedEntries: new Counter({
      name: 'gateway_response_cache_purged_entries_total',
      help: 'Cached responses deleted by entity purges',
      registers,
    }),
    rateLimited: new Counter({
      name: 'gateway_rate_limited_total',
      help: 'Operations rejected with RATE_LIMITED, by policy',
      labelNames: ['policy'] as const,
      registers,
    }),
    limitRejections: new Counter({
      name: 'gateway_query_limit_rejections_total',
      help: 'Operations rejected by a limit, by limit (QUERY_TOO_COMPLEX; PAYLOAD_TOO_LARGE for bodyBytes)',
      labelNames: ['limit'] as const,
      registers,
    }),
  };
}

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_LABELS = 500;

/**
 * Clients choose operation names, so they are labels only while they look like names and only up to
 * a bound; anything else is counted as `other` so a hostile client cannot blow up the series count.
 */
export function operationLabeler() {
  const seen = new Set<string>();
  return (name: string | null | undefined): string => {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (seen.has(name)) return name;
    if (seen.size >= MAX_OPERATION_LABELS) return 'other';
    seen.add(name);
    return name;
  };
}

/** Request rate and latency per operation, and response-cache hits/misses for queries. */
export function operationMetricsPlugin(metrics: GatewayMetrics, label = operationLabeler()): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse(requestContext) {
          const operation = label(requestContext.operationName);
          const type = requestContext.operation?.operation ?? 'invalid';
          metrics.operations.inc({ operation, type });
          metrics.operationDuration.observe({ operation, type }, Number(process.hrtime.bigint() - started) / 1e9);
          if (type === 'query' && requestContext.metrics.responseCacheHit !== undefined) {
            metrics.responseCache.inc({ result: requestContext.metrics.responseCacheHit ? 'hit' : 'miss' });
          }
        },
      };
    },
  };
}
