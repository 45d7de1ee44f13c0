import http from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type Express } from 'express';
import type { Logger } from './logger.ts';
import { rejectNulCharactersPlugin } from './nul-characters.ts';
import {
  createHttpApp,
  errorSummary,
  httpErrorHandler,
  listen,
  startManagementServer,
  type ManagementAddress,
  type Readiness,
} from './http.ts';
import { createErrorFormatter, DomainError, errorCodeOf } from './errors.ts';
import { GraphQLError } from 'graphql';
import { createServiceMetrics, type ServiceMetrics } from './metrics.ts';
import type { Authenticator, Viewer } from './auth.ts';
import { currentRequestContext, type RequestContext } from './request-context.ts';
import { graphqlOperationSpanPlugin, httpServerSpan } from './tracing.ts';
import { createSubgraphTokenVerifier, requireSubgraphToken, type SubgraphKeyring } from './subgraph-access.ts';

export interface SubgraphContextBase extends BaseContext {
  viewer: Viewer | null;
  /**
   * The caller's `Authorization` header, only when it verified (`viewer` is set): for asking another
   * subgraph *as the caller* (orders reads the buyer's address book from users). Never log or store it.
   */
  credentials: string | undefined;
  request: RequestContext;
  logger: Logger;
  /** The caller's address (Express `req.ip`: X-Forwarded-For is honoured only from trusted proxies). */
  clientIp: string | undefined;
}

export interface SubgraphServerOptions<Context extends SubgraphContextBase> {
  name: string;
  port: number;
  host?: string;
  /** `/health`, `/ready` and `/metrics` listen here, never on `port`. Default: a free loopback port (tests). */
  management?: { port: number; host: string };
  schema: GraphQLSchema;
  logger: Logger;
  authenticate: Authenticator;
  /** Builds the per-request context (DataLoaders, use cases) on top of the base one. */
  context: (base: SubgraphContextBase) => Context | Promise<Context>;
  ready?: () => Promise<Readiness>;
  metrics?: ServiceMetrics;
  production?: boolean;
  plugins?: ApolloServerPlugin<Context>[];
  /** Largest JSON body accepted; the gateway enforces tighter query limits in front. */
  bodyLimit?: string;
  /** Extra HTTP routes (e.g. the users service's `/.well-known/jwks.json`). */
  routes?: (app: Express) => void;
  /** See HttpAppOptions.trustProxy: which proxies (the gateway) may name the client address. */
  trustProxy?: string | number;
  /**
   * The keys of the subgraph access tokens (`SUBGRAPH_AUTH_KEYS`): `/graphql` answers 401 to a call
   * without a valid token for this subgraph, before its body is read. Every service passes one.
   */
  accessKeys: SubgraphKeyring;
}

export interface RunningServer {
  name: string;
  url: string;
  port: number;
  /** The bound management listener (`/health`, `/ready`, `/metrics`). */
  management: ManagementAddress;
  metrics: ServiceMetrics;
  stop(): Promise<void>;
}

/** Apollo Server 5 + Express 5 for a federated subgraph, with health, readiness and metrics on a management port, and draining shutdown. */
export async function startSubgraphServer<Context extends SubgraphContextBase>(
  options: SubgraphServerOptions<Context>,
): Promise<RunningServer> {
  const { logger, name } = options;
  const metrics = options.metrics ?? createServiceMetrics(name);
  const app = createHttpApp({ logger, metrics, trustProxy: options.trustProxy });
  const httpServer = http.createServer(app);
  httpServer.keepAliveTimeout = 65_000;

  const apollo = new ApolloServer<Context>({
    schema: options.schema,
    // runMain owns SIGTERM/SIGINT and stops everything in order; Apollo's own handlers would race it.
    stopOnTerminationSignals: false,
    introspection: true, // subgraphs sit behind the gateway; composition and tooling need it
    includeStacktraceInErrorResponses: false,
    formatError: createErrorFormatter({
      requestId: () => currentRequestContext()?.requestId,
      onInternalError: (error) => logger.error({ err: errorSummary(error) }, 'unexpected error in resolver'),
    }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 10_000 }),
      ApolloServerPluginLandingPageDisabled(),
      // Inline traces are for Apollo Studio; we export OpenTelemetry traces instead.
      ApolloServerPluginInlineTraceDisabled(),
      rejectNulCharactersPlugin<Context>(),
      errorMetricsPlugin<Context>(metrics),
      graphqlOperationSpanPlugin<Context>(),
      ...(options.plugins ?? []),
    ],
  });
  await apollo.start();

  options.routes?.(app);
  app.use(
    '/graphql',
    // The gateway's proof first: a stranger's call gets 401 before any body parsing or GraphQL work.
    requireSubgraphToken(createSubgraphTokenVerifier(options.accessKeys, name), logger),
    // A SERVER span continuing the gateway's (or the calling subgraph's) traceparent.
    httpServerSpan(name),
    express.json({ limit: options.bodyLimit ?? '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const viewer = await authenticateOrThrow(options.authenticate, req.headers.authorization);
        return options.context({
          viewer,
          credentials: viewer ? req.headers.authorization : undefined,
          request: req.context,
          logger: logger.child({ requestId: req.context.requestId, traceId: req.context.traceId }),
          clientIp: req.ip,
        });
      },
    }),
  );

  app.use(httpErrorHandler(logger));

  const management = await startManagementServer({
    logger,
    metrics,
    ready: options.ready,
    ...(options.management ?? { port: 0, host: '127.0.0.1' }),
  });
  let port: number;
  try {
    port = await listen(httpServer, options.port, options.host ?? '127.0.0.1');
  } catch (error) {
    await management.close();
    await apollo.stop();
    throw error;
  }
  const url = `http://127.0.0.1:${port}/graphql`;
  logger.info({ port, managementPort: management.port }, `${name} subgraph listening`);
  return {
    name,
    url,
    port,
    management: { host: management.host, port: management.port, url: management.url },
    metrics,
    async stop() {
      management.drain();
      await apollo.stop();
      // Last: probes and the final scrape still answer while requests drain.
      await management.close();
      logger.info(`${name} subgraph stopped`);
    },
  };
}

function errorMetricsPlugin<Context extends BaseContext>(metrics: ServiceMetrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            // Codes are given only in formatError (after this hook): a DomainError's would count as a server error,
            // a database outage as INTERNAL instead of SERVICE_UNAVAILABLE.
            metrics.graphqlErrors.inc({ code: errorCodeOf(error) });
          }
        },
      };
    },
  };
}

/** A bad token must surface as UNAUTHENTICATED (HTTP 401), not as Apollo's generic context-creation 500. */
export async function authenticateOrThrow(authenticate: Authenticator, header: string | undefined): Promise<Viewer | null> {
  try {
    return await authenticate(header);
  } catch (error) {
    if (error instanceof DomainError) {
      throw new GraphQLError(error.message, {
        extensions: { code: error.code, http: { status: error.code === 'UNAUTHENTICATED' ? 401 : 400 } },
      });
    }
    throw error;
  }
}
