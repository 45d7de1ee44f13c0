/**
 * An operation's cost depends only on the schema, the parsed document, the operation name and the
 * variables. Apollo Server hands every repeat of a query the same parsed document object, so the cost
 * walk (a full visit of the document with type info) needs to run once per document and variables,
 * not on every request (docs/benchmarks.md: it was ~6% of a cache hit's CPU).
 */
import type { DocumentNode, GraphQLSchema } from 'graphql';

/** Variables bigger than this are not remembered (their key would cost more than it saves). */
const MAX_KEY_LENGTH = 2048;
/** Distinct operation-name/variables combinations remembered per document (oldest forgotten first). */
const MAX_ENTRIES_PER_DOCUMENT = 64;

export type CostOf = (
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  operationName?: string,
) => number;

/** Wraps a cost function with a memo held by the schema and document objects themselves (no leak). */
export function rememberCosts(cost: CostOf): CostOf {
  const bySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, number>>>();
  return (schema, document, variables, operationName) => {
    const key = `${operationName ?? ''}\n${JSON.stringify(variables)}`;
    if (key.length > MAX_KEY_LENGTH) return cost(schema, document, variables, operationName);
    let byDocument = bySchema.get(schema);
    if (!byDocument) bySchema.set(schema, (byDocument = new WeakMap()));
    let costs = byDocument.get(document);
    if (!costs) byDocument.set(document, (costs = new Map()));
    let known = costs.get(key);
    if (known === undefined) {
      known = cost(schema, document, variables, operationName); // throws for bad variables: nothing kept
      if (costs.size >= MAX_ENTRIES_PER_DOCUMENT) costs.delete(costs.keys().next().value!);
      costs.set(key, known);
    }
    return known;
  };
}
