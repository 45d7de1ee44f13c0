/**
 * Introspection per caller rather than per process: always in development/embedded mode, and in
 * production only for verified admins (the playground's users). Everyone else gets FORBIDDEN.
 */
import { BREAK, GraphQLError, Kind, visit, type DocumentNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from './context.ts';

/** Apollo hands every repeat of a query the same parsed document: walk each one once. */
const introspectionByDocument = new WeakMap<DocumentNode, boolean>();

export function usesIntrospection(document: DocumentNode): boolean {
  let found = introspectionByDocument.get(document);
  if (found === undefined) introspectionByDocument.set(document, (found = scanForIntrospection(document)));
  return found;
}

function scanForIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.FIELD](node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

export function introspectionPolicyPlugin(production: boolean): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      if (!production) return;
      return {
        async didResolveOperation({ document, contextValue }) {
          if (contextValue.viewer?.role === 'ADMIN' || !usesIntrospection(document)) return;
          throw new GraphQLError('Introspection is available to admins only', {
            extensions: { code: 'FORBIDDEN', http: { status: 403 } },
          });
        },
      };
    },
  };
}
