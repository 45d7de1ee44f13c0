import { readFileSync } from 'node:fs';
import { parse, type GraphQLSchema } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';

/** Resolver map with federation's `__resolveReference`; typed loosely on purpose (resolvers type their own args). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResolverMap = Record<string, Record<string, any>>;

/** Builds a federated subgraph schema from the service's first-class `schema.graphql` file. */
export function loadSubgraphSchema(schemaFile: URL, resolvers: ResolverMap): GraphQLSchema {
  const typeDefs = parse(readFileSync(schemaFile, 'utf8'));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return buildSubgraphSchema({ typeDefs, resolvers: resolvers as any });
}
