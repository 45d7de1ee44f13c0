import type { GraphQLFormattedError } from 'graphql';
import { createErrorFormatter, currentRequestContext, errorSummary, type Logger } from '@commerce/platform';
import type { QueryLimits } from './config.ts';
import { QUERY_TOO_COMPLEX, relabelLimitErrors } from './limits/query-limits.ts';
import type { GatewayMetrics } from './observability/metrics.ts';

/** Codes only the gateway produces, on top of the shared ones (see docs/gateway.md). */
const GATEWAY_CODES = new Set([QUERY_TOO_COMPLEX, 'PERSISTED_QUERY_NOT_ALLOWED']);

/**
 * The shared formatter (stable codes, no internals, request id in extensions) plus the gateway's own
 * codes; every returned error is counted by its final code.
 */
export function createGatewayErrorFormatter(logger: Logger, limits: QueryLimits, metrics: GatewayMetrics) {
  const requestId = () => currentRequestContext()?.requestId;
  const shared = createErrorFormatter({
    requestId,
    onInternalError: (error) => logger.error({ err: errorSummary(error) }, 'unexpected gateway error'),
  });
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    let result: GraphQLFormattedError;
    // Apollo labels code-less errors INTERNAL_SERVER_ERROR; the original error tells whether it was the request's fault.
    const original = (error as { extensions?: { code?: unknown; http?: { status?: number } } } | undefined)?.extensions;
    const status = original?.http?.status;
    if (original?.code === undefined && status !== undefined && status >= 400 && status < 500) {
      // Apollo's own request errors without a code (e.g. an APQ hash that does not match its query).
      const id = requestId();
      result = { message: formatted.message, extensions: { code: 'BAD_REQUEST', ...(id ? { requestId: id } : {}) } };
    } else if (GATEWAY_CODES.has(String(formatted.extensions?.code))) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      const id = requestId();
      result = { ...formatted, extensions: { ...extensions, ...(id ? { requestId: id } : {}) } };
    } else {
      result = relabelLimitErrors(shared(formatted, error), limits);
      if (result.extensions?.limit === 'tokens' && formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED') {
        metrics.limitRejections.inc({ limit: 'tokens' });
      }
    }
    metrics.graphqlErrors.inc({ code: String(result.extensions?.code ?? 'INTERNAL_SERVER_ERROR') });
    return result;
  };
}
