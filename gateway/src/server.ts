import http from 'node:http';
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import express from 'express';
import {
  createErrorFormatter,
  createHttpApp,
  createServiceMetrics,
  currentRequestContext,
  errorSummary,
  listen,
  type Logger,
  type RequestContext,
} from '@commerce/platform';
import type { ServiceName } from '@commerce/runtime/services';
import type { GatewayConfig } from './config.ts';
import { SUPERGRAPH_FILE } from './compose-supergraph.ts';

export interface GatewayContext {
  request: RequestContext;
  authorization?: string;
}

export interface RunningGateway {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Forwards the caller's token and correlation ids to every subgraph call. */
class ForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>['willSendRequest']>>[0]) {
    if (!request.http) return;
    if (context.authorization) request.http.headers.set('authorization', context.authorization);
    if (context.request) {
      request.http.headers.set('x-request-id', context.request.requestId);
      request.http.headers.set('traceparent', `00-${context.request.traceId}-${'0'.repeat(15)}1-01`);
    }
  }
}

export async function startGateway(config: GatewayConfig, logger: Logger): Promise<RunningGateway> {
  const metrics = createServiceMetrics('gateway');
  const supergraphSdl = readFileSync(SUPERGRAPH_FILE, 'utf8');
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name }) => new ForwardingDataSource({ url: config.subgraphUrls[name as ServiceName] }),
  });

  const app = createHttpApp({
    logger,
    metrics,
    ready: async () => true,
  });
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: !config.production,
    includeStacktraceInErrorResponses: false,
    formatError: createErrorFormatter({
      requestId: () => currentRequestContext()?.requestId,
      onInternalError: (error) => logger.error({ err: errorSummary(error) }, 'unexpected gateway error'),
    }),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  app.use(
    '/graphql',
    express.json({ limit: '256kb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => ({ request: req.context, authorization: req.headers.authorization }),
    }),
  );
  const port = await listen(httpServer, config.port, config.host);
  const url = `http://localhost:${port}/graphql`;
  logger.info({ port }, 'gateway listening');
  return {
    url,
    port,
    async stop() {
      await apollo.stop();
    },
  };
}
