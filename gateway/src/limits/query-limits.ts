/**
 * Query limits at the edge. Depth, aliases and directives use GraphQL Armor's validation rules;
 * tokens use graphql-js's own parser limit; cost uses graphql-query-complexity with list sizes from
 * `first`/`last`, because Armor's cost rule weighs every field the same and cannot see variables.
 * Every rejection has `extensions.code = QUERY_TOO_COMPLEX`, the `limit` that was hit, the `allowed`
 * value and (where known) what was `found`.
 */
import {
  GraphQLError,
  isListType,
  getNullableType,
  type ValidationContext,
  type ValidationRule,
  type GraphQLFormattedError,
} from 'graphql';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import type { ApolloServerPlugin } from '@apollo/server';
import { DEFAULT_PAGE_LIMITS } from '@commerce/platform';
import type { QueryLimits } from '../config.ts';
import type { GatewayContext } from '../context.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { rememberCosts } from './cost-memo.ts';

export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

export type LimitName = 'depth' | 'cost' | 'aliases' | 'tokens' | 'directives' | 'batchSize' | 'bodyBytes';

export function limitExceeded(
  limit: LimitName,
  allowed: number,
  found: number | undefined,
  message: string,
  httpStatus = 400,
): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: QUERY_TOO_COMPLEX,
      limit,
      allowed,
      ...(found === undefined ? {} : { found }),
      http: { status: httpStatus },
    },
  });
}

/** Armor reports "… limit of N exceeded, found M."; we re-report it with structured extensions. */
function armorRule(
  limit: LimitName,
  allowed: number,
  build: (options: object) => ValidationRule,
  metrics?: GatewayMetrics,
): ValidationRule {
  return build({
    n: allowed,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        const found = /found (\d+)/.exec(error.message)?.[1];
        metrics?.limitRejections.inc({ limit });
        context?.reportError(
          limitExceeded(
            limit,
            allowed,
            found === undefined ? undefined : Number(found),
            error.message.replace(/^Syntax Error: /, ''),
          ),
        );
      },
    ],
  });
}

export function queryLimitValidationRules(limits: QueryLimits, metrics?: GatewayMetrics): ValidationRule[] {
  return [
    armorRule('depth', limits.maxDepth, (options) => maxDepthRule(options), metrics),
    armorRule('aliases', limits.maxAliases, (options) => maxAliasesRule(options), metrics),
    armorRule('directives', limits.maxDirectives, (options) => maxDirectivesRule(options), metrics),
  ];
}

/** graphql-js stops parsing after `maxTokens` tokens (Apollo's `parseOptions`), before any work is done. */
export const parseOptionsFor = (limits: QueryLimits) => ({ maxTokens: limits.maxTokens });

const LIST_SIZE_ARGUMENTS = ['first', 'last', 'limit'];

/**
 * Every selected field costs 1; a paginated field multiplies its selection by its page size
 * (`first: 100` costs ten times `first: 10`), a plain list by `defaultListSize`. Introspection is free:
 * it is guarded by the introspection policy, and GraphiQL's schema query would otherwise not fit.
 */
export function listAwareEstimator(defaultListSize: number, maxPageSize = DEFAULT_PAGE_LIMITS.maxSize): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    if (field.name.startsWith('__')) return 0;
    const pageSize = LIST_SIZE_ARGUMENTS.map((name) => args[name]).find((value): value is number => typeof value === 'number');
    // No subgraph returns more than its maximum page; a larger `first` is its BAD_USER_INPUT to report.
    if (pageSize !== undefined) return 1 + Math.min(Math.max(pageSize, 0), maxPageSize) * childComplexity;
    // `edges`/`nodes` of a connection are already multiplied by the connection's page size.
    const insideConnection = type.name.endsWith('Connection');
    if (isListType(getNullableType(field.type)) && !insideConnection) return 1 + defaultListSize * childComplexity;
    return 1 + childComplexity;
  };
}

export function queryCostPlugin(limits: QueryLimits, metrics?: GatewayMetrics): ApolloServerPlugin<GatewayContext> {
  const estimator = listAwareEstimator(limits.defaultListSize);
  const costOf = rememberCosts((schema, query, variables, operationName) =>
    getComplexity({ schema, query, variables, operationName, estimators: [estimator] }),
  );
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request, operationName }) {
          let cost: number;
          try {
            cost = costOf(schema, document, request.variables ?? {}, operationName ?? undefined);
          } catch {
            // Bad variables fail later with a proper coercion error; nothing is executed for them.
            return;
          }
          if (cost > limits.maxCost) {
            metrics?.limitRejections.inc({ limit: 'cost' });
            throw limitExceeded('cost', limits.maxCost, cost, `Query cost limit of ${limits.maxCost} exceeded, found ${cost}.`);
          }
        },
      };
    },
  };
}

/**
 * Apollo re-labels errors reported by validation rules as GRAPHQL_VALIDATION_FAILED and parse errors
 * as GRAPHQL_PARSE_FAILED; limit rejections get their stable code back here (in formatError).
 */
export function relabelLimitErrors(formatted: GraphQLFormattedError, limits: QueryLimits): GraphQLFormattedError {
  const extensions = formatted.extensions ?? {};
  if (extensions.code === 'GRAPHQL_VALIDATION_FAILED' && typeof extensions.limit === 'string') {
    return { ...formatted, extensions: { ...extensions, code: QUERY_TOO_COMPLEX } };
  }
  if (extensions.code === 'GRAPHQL_PARSE_FAILED' && /Document contains more that \d+ tokens/.test(formatted.message)) {
    return {
      message: `Token limit of ${limits.maxTokens} exceeded.`,
      extensions: { ...extensions, code: QUERY_TOO_COMPLEX, limit: 'tokens', allowed: limits.maxTokens },
    };
  }
  return formatted;
}
