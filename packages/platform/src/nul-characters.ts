import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';

function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 32 || value === null || typeof value !== 'object') return false;
  return Object.values(value as Record<string, unknown>).some((inner) => containsNul(inner, depth + 1));
}

// Parsed documents are immutable and reused for every repeat of a query: scan each one once.
const nulInDocument = new WeakMap<DocumentNode, boolean>();

function documentContainsNul(document: DocumentNode): boolean {
  const known = nulInDocument.get(document);
  if (known !== undefined) return known;
  const found = scanForNul(document);
  nulInDocument.set(document, found);
  return found;
}

function scanForNul(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.STRING]: (node) => {
      if (node.value.includes('\u0000')) found = true;
    },
  });
  return found;
}

/**
 * PostgreSQL text cannot hold U+0000, and no argument of this graph needs it: refuse such strings at
 * the edge as bad input instead of letting the database fail the request with an internal error.
 */
export function rejectNulCharactersPlugin<Context extends BaseContext>(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          if (containsNul(request.variables) || documentContainsNul(document)) {
            throw new GraphQLError('String arguments must not contain NUL (U+0000) characters', {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
