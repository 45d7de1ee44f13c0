/**
 * Single-fetch pass-through (docs/benchmarks.md, optimisation 7). When Apollo Gateway's query plan for
 * an operation is one fetch from one subgraph, and the subgraph operation it sends selects exactly what
 * the client asked for (same fields, aliases, arguments and directives, in the same order), the
 * subgraph's `data` *is* the answer: the gateway's result shaping (`computeResponse`, a re-walk of the
 * operation over every value — a quarter of the gateway's CPU on a storefront page) would rebuild the
 * same object. So such operations are sent to the subgraph as the plan says and its data returned as is.
 * The one difference allowed: the planner sends a plain `__typename` first in each selection (Apollo
 * Client asks for it last, everywhere); then only the keys are put back in the client's order.
 *
 * Conservative on purpose — everything else runs Apollo's executor unchanged:
 * - decided per parsed document and operation name, from the plan Apollo itself made for it (so the
 *   first request of a document always runs the normal executor);
 * - only queries and mutations (a handed-back mutation answer is the one call's: never executed twice);
 *   only plans that are a single fetch without `requires` or rewrites; no interface or
 *   union anywhere in the selection; never when the supergraph uses `@inaccessible` (result shaping
 *   hides inaccessible enum values);
 * - variables are coerced as the gateway does, and any coercion error goes to the normal executor;
 * - a subgraph answer with errors, or a failed call, is handed to the normal executor as if it had
 *   made the call itself (no second call): errors, paths, partial data and SERVICE_UNAVAILABLE come out
 *   exactly as without the pass-through.
 */
import {
  Kind,
  TypeInfo,
  getNamedType,
  isAbstractType,
  parse,
  print,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values.js';
import type {
  GatewayExecutionResult,
  GatewayExecutor,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from '@apollo/server-gateway-interface';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { FetchNode, QueryPlan } from '@apollo/query-planner';
import type { GatewayContext } from '../context.ts';

/** What the data source is handed instead of calling the subgraph, when the pass-through already did. */
export type PrefetchedOutcome = { response: Awaited<ReturnType<GraphQLDataSource['process']>> } | { error: unknown };

interface Eligible {
  fetch: FetchNode;
  service: GraphQLDataSource<GatewayContext>;
  operation: OperationDefinitionNode;
  /** Set when the subgraph answers the same keys in another order (`__typename` first): the client's. */
  order?: CanonicalField[];
}

type Decision = Eligible | null;

const INCOMING_OPERATION = 'incoming operation' as Extract<
  GraphQLDataSourceProcessOptions,
  { pathInIncomingRequest: unknown }
>['kind'];

export interface SingleFetchPassthrough {
  /** Give to ApolloGateway's `experimental_didResolveQueryPlan`: records each plan's decision. */
  didResolveQueryPlan(options: {
    queryPlan: QueryPlan;
    serviceMap: Record<string, GraphQLDataSource>;
    requestContext: GatewayGraphQLRequestContext;
  }): void;
  /** Wraps the gateway's executor. */
  wrap(executor: GatewayExecutor): GatewayExecutor;
  stats(): { passedThrough: number; handedBack: number; decisions: number };
}

/** Supergraphs using @inaccessible need result shaping to hide values: no pass-through at all. */
export function supergraphAllowsPassthrough(supergraphSdl: string): boolean {
  return !/@inaccessible\b/.test(supergraphSdl);
}

export function createSingleFetchPassthrough(options: { apiSchema: () => GraphQLSchema | undefined }): SingleFetchPassthrough {
  const decisions = new WeakMap<DocumentNode, Map<string, Decision>>();
  const counts = { passedThrough: 0, handedBack: 0, decisions: 0 };

  const decisionFor = (document: DocumentNode, operationName: string | null | undefined) =>
    decisions.get(document)?.get(operationName ?? '');

  const record = (document: DocumentNode, operationName: string | null | undefined, decision: Decision) => {
    let byName = decisions.get(document);
    if (!byName) decisions.set(document, (byName = new Map()));
    if (!byName.has(operationName ?? '')) counts.decisions++;
    byName.set(operationName ?? '', decision);
  };

  const decide = (
    queryPlan: QueryPlan,
    serviceMap: Record<string, GraphQLDataSource>,
    document: DocumentNode,
    operationName: string | null | undefined,
  ): Decision => {
    const schema = options.apiSchema();
    const node = queryPlan.node;
    if (!schema || !node || node.kind !== 'Fetch') return null;
    if (node.requires || node.inputRewrites?.length || node.outputRewrites?.length || node.contextRewrites?.length) return null;
    const service = serviceMap[node.serviceName] as GraphQLDataSource<GatewayContext> | undefined;
    if (!service) return null;
    const operation = operationOf(document, operationName);
    // Queries and mutations (a mutation's root fields in one subgraph are one fetch, run in order there, as
    // the normal executor would send them); subscriptions never reach here.
    if (!operation || (operation.operation !== 'query' && operation.operation !== 'mutation')) return null;
    if (reachesAbstractType(schema, document, operation)) return null;
    const sentDocument = parse(node.operation);
    const sent = operationOf(sentDocument, node.operationName);
    if (!sent) return null;
    const asked = canonicalFields(operation.selectionSet, fragmentsOf(document));
    const sentFields = canonicalFields(sent.selectionSet, fragmentsOf(sentDocument));
    if (!asked || !sentFields) return null;
    if (render(asked, false) === render(sentFields, false)) return { fetch: node, service, operation };
    // The planner sends __typename first in each selection: same answer, keys to be put back in the client's order.
    if (render(asked, true) === render(sentFields, true)) return { fetch: node, service, operation, order: asked };
    return null;
  };

  return {
    didResolveQueryPlan({ queryPlan, serviceMap, requestContext }) {
      const { document, request } = requestContext;
      if (!document || decisionFor(document, request.operationName) !== undefined) return;
      let decision: Decision = null;
      try {
        decision = decide(queryPlan, serviceMap, document, request.operationName);
      } catch {
        decision = null; // anything unexpected: the normal executor, always
      }
      record(document, request.operationName, decision);
    },

    wrap(executor) {
      return async (requestContext) => {
        const { document, request } = requestContext;
        const decision = document ? decisionFor(document, request.operationName) : undefined;
        const schema = options.apiSchema();
        if (!decision || !schema) return executor(requestContext);
        const provided = request.variables ?? {};
        // The same coercion check the gateway's executor starts with; its errors are its to report.
        if (decision.operation.variableDefinitions?.length) {
          const { errors } = getVariableValues(schema, decision.operation.variableDefinitions, provided);
          if (errors?.length) return executor(requestContext);
        }
        const { fetch, service } = decision;
        const variables: Record<string, unknown> = Object.create(null);
        for (const name of fetch.variableUsages ?? []) {
          if (Object.hasOwn(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
        }
        const context = requestContext.context as GatewayContext;
        let outcome: PrefetchedOutcome;
        try {
          const response = await service.process({
            // GraphQLDataSourceRequestKind.INCOMING_OPERATION (the enum is not exported by @apollo/gateway's index).
            kind: INCOMING_OPERATION,
            request: { query: fetch.operation, variables, operationName: fetch.operationName },
            incomingRequestContext: requestContext as GatewayGraphQLRequestContext<GatewayContext>,
            context,
            document: fetch.operationDocumentNode,
            pathInIncomingRequest: [],
          } as GraphQLDataSourceProcessOptions<GatewayContext>);
          if (!response.errors?.length && response.data && typeof response.data === 'object') {
            counts.passedThrough++;
            const data = decision.order ? inClientOrder(response.data, decision.order) : response.data;
            return { data } as GatewayExecutionResult;
          }
          outcome = { response };
        } catch (error) {
          outcome = { error };
        }
        // Errors, partial data, a failed call: the normal executor turns them into the answer, from this very call.
        counts.handedBack++;
        // Keyed by the exact call: operations of one batched HTTP request share a context and may run at once.
        (context.prefetchedSubgraphAnswers ??= new Map()).set(
          prefetchKey(fetch.serviceName, fetch.operation, variables),
          outcome,
        );
        return executor(requestContext);
      };
    },

    stats: () => ({ ...counts }),
  };
}

const prefetchKey = (service: string, query: string | undefined, variables: Record<string, unknown> | undefined) =>
  `${service}\n${query}\n${JSON.stringify(variables ?? {})}`;

/** Takes the pass-through's answer for this exact call (service, query and variables), if it left one (once). */
export function takePrefetchedAnswer(
  context: GatewayContext | undefined,
  service: string,
  query: string | undefined,
  variables: Record<string, unknown> | undefined,
): PrefetchedOutcome | undefined {
  const answers = context?.prefetchedSubgraphAnswers;
  if (!answers?.size) return undefined;
  const key = prefetchKey(service, query, variables);
  const outcome = answers.get(key);
  answers.delete(key);
  return outcome;
}

function operationOf(document: DocumentNode, name: string | null | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (name) return operations.find((operation) => operation.name?.value === name);
  return operations.length === 1 ? operations[0] : undefined;
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  return new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])));
}

/** A field of a selection as the subgraph answers it: its response key, and its own text (alias, name, arguments, directives). */
interface CanonicalField {
  key: string;
  text: string;
  children?: CanonicalField[];
}

/**
 * The fields of a selection in answer order, fragments spread in place; null when a fragment has a
 * directive or a type condition (result shaping's to resolve).
 */
function canonicalFields(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
): CanonicalField[] | null {
  const fields: CanonicalField[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const args = selection.arguments?.length ? `(${selection.arguments.map(print).join(',')})` : '';
      const directives = selection.directives?.length ? selection.directives.map(print).join('') : '';
      const alias = selection.alias ? `${selection.alias.value}:` : '';
      const children = selection.selectionSet ? canonicalFields(selection.selectionSet, fragments) : undefined;
      if (children === null) return null;
      fields.push({
        key: selection.alias?.value ?? selection.name.value,
        text: `${alias}${selection.name.value}${args}${directives}`,
        children,
      });
    } else {
      if (selection.directives?.length) return null;
      const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
      if (!fragment || (selection.kind === Kind.INLINE_FRAGMENT && selection.typeCondition)) return null;
      const inner = canonicalFields(fragment.selectionSet, fragments);
      if (inner === null) return null;
      fields.push(...inner);
    }
  }
  return fields;
}

const isPlainTypename = (field: CanonicalField) => field.text === '__typename';

/** The selection as text; with `typenameFirst`, a plain `__typename` moved to the front of its set, as the planner sends it. */
function render(fields: CanonicalField[], typenameFirst: boolean): string {
  const ordered = typenameFirst
    ? [...fields.filter(isPlainTypename), ...fields.filter((field) => !isPlainTypename(field))]
    : fields;
  return ordered.map((field) => field.text + (field.children ? `{${render(field.children, typenameFirst)}}` : '')).join(' ');
}

/** The same values with every object's keys in the client's order (only `__typename` ever moves). */
function inClientOrder(value: unknown, fields: CanonicalField[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => inClientOrder(item, fields));
  const source = value as Record<string, unknown>;
  const ordered: Record<string, unknown> = {};
  for (const field of fields) {
    if (!Object.hasOwn(source, field.key)) continue; // skipped by @skip/@include
    ordered[field.key] = field.children ? inClientOrder(source[field.key], field.children) : source[field.key];
  }
  return ordered;
}

/** True when any field of the operation returns an interface or a union (result shaping resolves those). */
function reachesAbstractType(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const typeInfo = new TypeInfo(schema);
  let abstract = false;
  const definitions = [operation, ...fragmentsOf(document).values()];
  for (const definition of definitions) {
    visit(
      definition,
      visitWithTypeInfo(typeInfo, {
        Field() {
          const type = typeInfo.getType();
          if (!type || isAbstractType(getNamedType(type))) abstract = true;
        },
        InlineFragment(node) {
          if (node.typeCondition) abstract = true;
        },
        FragmentDefinition(node) {
          const type = schema.getType(node.typeCondition.name.value);
          if (!type || isAbstractType(type)) abstract = true;
        },
      }),
    );
  }
  return abstract;
}

/** The gateway as Apollo Server sees it, with its executor wrapped (loading, updates and stopping unchanged). */
export function withExecutor(gateway: GatewayInterface, wrap: (executor: GatewayExecutor) => GatewayExecutor): GatewayInterface {
  return {
    load: async (options) => {
      const loaded = await gateway.load(options);
      return { ...loaded, executor: loaded.executor && wrap(loaded.executor) };
    },
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
  };
}
