// A subgraph's HTTP server wired from its runtime (port, host, logger, metrics, authentication, mode):
// what differs per service is only its schema, per-request context and extra routes.
import {
  loadSubgraphSchema,
  startSubgraphServer,
  type ResolverMap,
  type RunningServer,
  type SubgraphContextBase,
  type SubgraphServerOptions,
} from '@commerce/platform';
import type { ServiceRuntime } from './runtime.ts';

export interface ServiceServerOptions<Context extends SubgraphContextBase> extends Pick<
  SubgraphServerOptions<Context>,
  'context' | 'routes' | 'trustProxy'
> {
  /** The service's `schema.graphql`. */
  schemaFile: URL;
  resolvers: ResolverMap;
  /** The service's database client: ready while it answers `SELECT 1`. */
  database: { $queryRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<unknown> };
}

export function startServiceServer<Context extends SubgraphContextBase>(
  runtime: ServiceRuntime,
  options: ServiceServerOptions<Context>,
): Promise<RunningServer> {
  return startSubgraphServer<Context>({
    name: runtime.name,
    port: runtime.config.port,
    host: runtime.config.host,
    management: runtime.config.management,
    logger: runtime.logger,
    metrics: runtime.metrics,
    production: runtime.config.production,
    authenticate: runtime.authenticate,
    schema: loadSubgraphSchema(options.schemaFile, options.resolvers),
    context: options.context,
    routes: options.routes,
    trustProxy: options.trustProxy,
    accessKeys: runtime.accessKeys,
    // Ready once the database answers: consumer groups still joining do not hold up the graph, they
    // are listed under `starting` (see BackgroundStarts).
    ready: async () => {
      await options.database.$queryRaw`SELECT 1`;
      return { ready: true, starting: runtime.starting.list() };
    },
  });
}
