import { GraphQLError } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';

/**
 * With a gateway, Apollo Server hands a document whose operation it could not pick (several
 * operations and no name, an unknown name) or one the supergraph cannot run (a subscription) to the
 * gateway's executor, which throws a code-less error that Apollo answers with HTTP 500. Refusing such
 * requests here makes them what they are: the client's mistake, 400 with a stable code.
 */
export function operationResolutionPlugin<Context extends object>(): ApolloServerPlugin<Context> {
  const refuse = (message: string) =>
    new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } } });
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request, schema }) {
          if (!operation) {
            throw refuse(
              request.operationName
                ? `Unknown operation named "${request.operationName}".`
                : 'Must provide operation name if query contains multiple operations.',
            );
          }
          if (operation.operation === 'subscription' && !schema.getSubscriptionType()) {
            throw refuse('Subscriptions are not supported by this graph.');
          }
        },
      };
    },
  };
}
