import http from 'node:http';
import { operationResolutionPlugin } from './operation-resolution.ts';
import { readFileSync } from 'node:fs';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloGateway } from '@apollo/gateway';
import express from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Redis } from 'ioredis';
import { ErrorsAreMissesCache, type KeyValueCache } from '@apollo/utils.keyvaluecache';
import {
  createHttpApp,
  createRateLimiter,
  graphqlOperationSpanPlugin,
  httpServerSpan,
  listen,
  rejectNulCharactersPlugin,
  startManagementServer,
  createSubgraphTokenSigner,
  type Logger,
  type ManagementAddress,
  type ManagementServer,
} from '@commerce/platform';
import {
  InProcessEventBus,
  KafkaConsumerLag,
  KafkaEventBus,
  withTopicPrefix,
  TOPICS,
  inProcessConsumerLag,
  registerConsumerLagMetrics,
  type EventSubscriber,
  type Subscription,
} from '@commerce/events';
import { deadLetterReporter } from '@commerce/runtime/events';
import { BackgroundStarts } from '@commerce/runtime/startup';
import { loadJwtKeys, loadSubgraphAccessKeys } from '@commerce/runtime/keys';
import type { ServiceName } from '@commerce/runtime/services';
import type { GatewayConfig } from './config.ts';
import { SUPERGRAPH_FILE } from './compose-supergraph.ts';
import { createContextFactory, type GatewayContext } from './context.ts';
import { createGatewayErrorFormatter } from './errors.ts';
import { apiSecurityHeaders, batchLimit, corsAllowList, gatewayHttpErrorHandler } from './http-hygiene.ts';
import { introspectionPolicyPlugin } from './introspection.ts';
import { parseOptionsFor, queryCostPlugin, queryLimitValidationRules } from './limits/query-limits.ts';
import { createRateLimiters, rateLimitPlugin } from './limits/rate-limit.ts';
import { variablesDepthLimit } from './limits/variables-depth.ts';
import { createGatewayMetrics, operationLabeler, operationMetricsPlugin, type GatewayMetrics } from './observability/metrics.ts';
import {
  apqRegistrationLimit,
  loadSafelist,
  memoryPersistedQueryStore,
  persistedQueryCache,
  RedisPersistedQueryStore,
  safelistPlugin,
} from './persisted-queries.ts';
import { mountPlayground } from './playground/routes.ts';
import { MemoryCacheStore, RedisCacheStore, type CacheStore } from './cache/store.ts';
import { responseCachePlugin } from './cache/response-cache.ts';
import { createHitPath, type HitPath } from './cache/hit-path.ts';
import { subscribeCachePurges, type CachePurge } from './cache/purge-on-events.ts';
import { connectRedis } from './redis.ts';
import { createSubgraphFetcher, SubgraphDataSource } from './subgraphs/data-source.ts';
import { dedupeInflightQueries } from './subgraphs/inflight-dedup.ts';
import {
  createSingleFetchPassthrough,
  supergraphAllowsPassthrough,
  withExecutor,
  type SingleFetchPassthrough,
} from './subgraphs/single-fetch-passthrough.ts';
import { subgraphsReadiness, supergraphSubgraphs } from './subgraphs/readiness.ts';

export type { GatewayContext };

/** While Redis is down a lookup is a miss (the client re-sends the full query), not a failed request. */
function errorsAreMisses(store: KeyValueCache<string>, logger: Logger) {
  const warn = (message: unknown) => logger.warn({ err: { message: String(message) } }, 'cache read failed; treated as a miss');
  return new ErrorsAreMissesCache(store, { debug: () => undefined, info: () => undefined, warn, error: warn });
}

export interface GatewayDependencies {
  /** Where catalog events come from: the in-process bus in embedded mode, Kafka in full mode. */
  bus?: EventSubscriber;
  /** Overrides the supergraph file (tests). */
  supergraphSdl?: string;
}

export interface RunningGateway {
  url: string;
  port: number;
  /** The bound management listener (`/health`, `/ready`, `/metrics`); the public port answers 404 there. */
  management: ManagementAddress;
  metrics: GatewayMetrics;
  cache: CacheStore;
  /** The cache hit path in front of Express (GATEWAY_CACHE_HIT_PATH); absent when it is off. */
  hitPath?: Pick<HitPath, 'stats' | 'clear'>;
  /** Present when the single-fetch pass-through is on (`subgraphs/single-fetch-passthrough.ts`). */
  passthrough?: Pick<SingleFetchPassthrough, 'stats'>;
  /** Calls `listener` after every cache purge an event caused; returns the unsubscribe function. */
  onCachePurge(listener: (purge: CachePurge) => void): () => void;
  stop(): Promise<void>;
}

export async function startGateway(
  config: GatewayConfig,
  logger: Logger,
  dependencies: GatewayDependencies = {},
): Promise<RunningGateway> {
  const metrics = createGatewayMetrics();
  const jwt = loadJwtKeys(config.jwt);
  // Every call to a subgraph carries a token signed with this keyring (subgraphs answer no one else).
  const subgraphTokens = createSubgraphTokenSigner(loadSubgraphAccessKeys(config.subgraphAccess), 'gateway');
  const safelist = config.persistedQueries.safelistFile ? loadSafelist(config.persistedQueries.safelistFile) : undefined;
  const supergraphSdl = dependencies.supergraphSdl ?? readFileSync(SUPERGRAPH_FILE, 'utf8');
  // Configured URLs win; a subgraph the configuration does not know keeps its composed URL.
  const subgraphUrls = Object.fromEntries(
    Object.entries(supergraphSubgraphs(supergraphSdl)).map(([name, url]) => [
      name,
      config.subgraphUrls[name as ServiceName] ?? url,
    ]),
  );
  const subgraphNames = Object.keys(subgraphUrls);

  const redis: Redis | undefined = config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;
  let store: CacheStore = new MemoryCacheStore(config.cache.memoryMaxBytes);
  if (redis) {
    const redisStore = new RedisCacheStore(redis, config.redisKeyPrefix, {
      // The hit path learns of purges by other instances from a pub/sub feed rather than a GET per hit.
      purgeEpochFeed: config.cache.responseCache && config.cache.hitPath,
      logger,
    });
    await redisStore.syncClock();
    store = redisStore;
  }
  const subgraphClient = createSubgraphFetcher({ timeoutMs: config.subgraphTimeoutMs, maxSockets: config.subgraphMaxSockets });
  // Identical subgraph queries in flight at once share one call (docs/benchmarks.md).
  const subgraphFetch = config.subgraphDedupeQueries
    ? dedupeInflightQueries(subgraphClient.fetcher).fetcher
    : subgraphClient.fetcher;

  let supergraphLoaded = false;
  let apiSchema: GraphQLSchema | undefined;
  // Plans that are one fetch whose subgraph query is the client's own skip result shaping (docs/benchmarks.md).
  const passthrough =
    config.singleFetchPassthrough && supergraphAllowsPassthrough(supergraphSdl)
      ? createSingleFetchPassthrough({ apiSchema: () => apiSchema })
      : undefined;
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) =>
      new SubgraphDataSource(name, subgraphUrls[name] ?? url!, subgraphFetch, logger, subgraphTokens),
    ...(passthrough ? { experimental_didResolveQueryPlan: passthrough.didResolveQueryPlan } : {}),
  });
  gateway.onSchemaLoadOrUpdate((update) => {
    apiSchema = update.apiSchema;
    supergraphLoaded = true;
  });
  const subgraphsAnswer = subgraphsReadiness({
    urls: subgraphUrls,
    tokens: subgraphTokens,
    timeoutMs: Math.min(config.subgraphTimeoutMs, 2000),
    logger,
  });

  // What is still starting while the gateway serves: the cache-purge consumer group, on Kafka (below).
  const starting = new BackgroundStarts();
  const app = createHttpApp({ logger, metrics, trustProxy: config.http.trustProxy });
  // Requests go to Express, or first to the cache hit path once it is set up (below).
  let handleRequest: http.RequestListener = app;
  const httpServer = http.createServer((req, res) => handleRequest(req, res));
  httpServer.keepAliveTimeout = 65_000;

  const rateLimiters = createRateLimiters(config.rateLimit, redis, config.redisKeyPrefix);
  // Registered queries live apart from the response cache, so registering cannot evict cached answers.
  const apqStore = redis
    ? new RedisPersistedQueryStore(redis, config.redisKeyPrefix, {
        maxBytes: config.persistedQueries.maxBytes,
        ttlSeconds: config.persistedQueries.ttlSeconds,
      })
    : memoryPersistedQueryStore(config.persistedQueries.maxBytes);
  const apqRegistrations = createRateLimiter(
    {
      keyPrefix: `${config.redisKeyPrefix}rl:apq-register`,
      points: config.persistedQueries.registrations,
      durationSeconds: config.persistedQueries.registrationWindowSeconds,
    },
    { redis },
  );
  const operationLabel = operationLabeler();
  const hitPath =
    config.cache.responseCache && config.cache.hitPath
      ? createHitPath({
          app,
          store,
          points: rateLimiters.generalPoints,
          bodyLimitBytes: config.http.bodyLimitBytes,
          maxBytes: config.cache.hitPathMaxBytes,
          metrics,
          logger,
          operationLabel,
          sensitiveFields: [...config.rateLimit.sensitiveFields, ...config.rateLimit.addressFields],
        })
      : undefined;
  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 10_000 }),
    ApolloServerPluginLandingPageDisabled(),
    ApolloServerPluginInlineTraceDisabled(),
    graphqlOperationSpanPlugin<GatewayContext>(), // names the operation on the request's span
    // Subgraph hints decide what is cacheable here; clients get no HTTP cache headers, because only
    // the gateway's own cache can be purged when a product changes.
    ApolloServerPluginCacheControl({ calculateHttpHeaders: false }),
    operationResolutionPlugin<GatewayContext>(),
    rejectNulCharactersPlugin<GatewayContext>(),
    operationMetricsPlugin(metrics, operationLabel),
    rateLimitPlugin(rateLimiters, config.rateLimit, logger, metrics),
    introspectionPolicyPlugin(config.production),
    queryCostPlugin(config.limits, metrics),
    ...(safelist ? [safelistPlugin(safelist)] : []),
    ...(config.cache.responseCache ? [responseCachePlugin(store, logger)] : []),
    ...(hitPath ? [hitPath.plugin] : []),
  ];

  const apollo = new ApolloServer<GatewayContext>({
    gateway: passthrough ? withExecutor(gateway, passthrough.wrap) : gateway,
    // runMain owns SIGTERM/SIGINT and stops everything in order; Apollo's own handlers would race it.
    stopOnTerminationSignals: false,
    nodeEnv: config.nodeEnv,
    // Decided per request by introspectionPolicyPlugin (admins only in production).
    introspection: true,
    hideSchemaDetailsFromClientErrors: config.production,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    allowBatchedHttpRequests: config.http.maxBatchSize > 1,
    parseOptions: parseOptionsFor(config.limits),
    validationRules: queryLimitValidationRules(config.limits, metrics),
    cache: store,
    persistedQueries:
      config.persistedQueries.apq || safelist
        ? { cache: persistedQueryCache(errorsAreMisses(apqStore, logger), safelist), ttl: config.persistedQueries.ttlSeconds }
        : false,
    formatError: createGatewayErrorFormatter(logger, config.limits, metrics),
    plugins,
  });
  await apollo.start();

  // Embedded mode hands in the in-process bus; full mode (KAFKA_BROKERS) consumes catalog events from Kafka.
  const kafka =
    !dependencies.bus && config.kafkaBrokers.length > 0
      ? new KafkaEventBus({
          brokers: config.kafkaBrokers,
          clientId: `${config.kafkaClientId}-gateway`,
          logger,
          // events_dead_lettered_total, as on every subgraph (the EventsDeadLettered alert reads it).
          onDeadLetter: deadLetterReporter(metrics.registry),
        })
      : undefined;
  // The same prefix the subgraphs put on their topics (and the purge group), so prefixed stacks stay apart.
  const subscriber = dependencies.bus ?? (kafka && withTopicPrefix(kafka, config.kafkaTopicPrefix));
  let purgeSubscription: Subscription | undefined;
  let stopping = false;
  const purgeListeners = new Set<(purge: CachePurge) => void>();
  const purging = !!subscriber && config.cache.responseCache;
  const subscribePurges = () =>
    subscribeCachePurges({
      subscriber: subscriber!,
      store,
      groupId: config.cache.eventsGroupId,
      logger,
      metrics,
      onPurged: (purge) => purgeListeners.forEach((listener) => listener(purge)),
    });
  try {
    if (purging && kafka) {
      // In the background: after a SIGKILL the group admits this instance only once the dead one's
      // session expired (~30 s), and the graph must not wait for that; /ready lists it meanwhile.
      void starting.track(
        `consumer group ${config.cache.eventsGroupId}`,
        (async () => {
          for (let attempt = 1; !stopping; attempt++) {
            try {
              const subscription = await subscribePurges();
              if (stopping) await subscription.stop();
              else purgeSubscription = subscription;
              return;
            } catch (error) {
              if (stopping) return;
              const retryInMs = Math.min(30_000, 500 * 2 ** attempt);
              logger.error({ err: (error as Error).message, attempt, retryInMs }, 'cache-purge consumer did not start; retrying');
              await new Promise((resolve) => setTimeout(resolve, retryInMs).unref());
            }
          }
        })(),
      );
    } else if (purging) {
      purgeSubscription = await subscribePurges(); // the in-process bus subscribes at once
    } else if (config.cache.responseCache) {
      logger.warn('no event subscriber: cached responses are not purged on catalog changes, only expire');
    }
  } catch (error) {
    await apollo.stop();
    await kafka?.close();
    redis?.disconnect();
    throw error;
  }

  // Lag and dead-letter depth of the cache-purge group, as the subgraphs report theirs (docs/operations.md).
  const purgeLag = !purging
    ? undefined
    : kafka
      ? new KafkaConsumerLag({ brokers: config.kafkaBrokers, clientId: `${config.kafkaClientId}-gateway-lag` })
      : subscriber instanceof InProcessEventBus
        ? inProcessConsumerLag(subscriber)
        : undefined;
  const stopPurgeLag = purgeLag
    ? registerConsumerLagMetrics(metrics.registry, {
        source: purgeLag,
        groups: () =>
          new Map([[`${config.kafkaTopicPrefix}${config.cache.eventsGroupId}`, [`${config.kafkaTopicPrefix}${TOPICS.catalog}`]]]),
        logger: logger.child({ component: 'consumer-lag' }),
      })
    : undefined;

  app.use(apiSecurityHeaders());
  if (config.playground) mountPlayground(app);
  app.use(
    '/graphql',
    httpServerSpan('gateway'), // the root of a client request's trace (or the caller's child)
    corsAllowList(config.http.corsOrigins),
    hitPath
      ? hitPath.jsonBody(express.json({ limit: config.http.bodyLimitBytes }))
      : express.json({ limit: config.http.bodyLimitBytes }),
    batchLimit(config.http.maxBatchSize, metrics),
    // Before anything recursive reads them (Apollo, cache keys, cost): deep variables overflowed the stack.
    variablesDepthLimit(config.limits.maxVariablesDepth, metrics),
    ...(config.persistedQueries.apq ? [apqRegistrationLimit(apqRegistrations, logger, metrics)] : []),
    expressMiddleware(apollo, { context: createContextFactory(jwt.authenticate) }),
  );
  app.use(gatewayHttpErrorHandler(logger, config.http.bodyLimitBytes, metrics));
  if (hitPath) handleRequest = hitPath.listener;

  // A port already taken ends the start here: release what runs, so a caller that handles the error (tests) is not left with it.
  const release = async () => {
    await purgeSubscription?.stop();
    await stopPurgeLag?.();
    await kafka?.close();
    await apollo.stop();
    subgraphClient.close();
    redis?.disconnect();
  };
  let managementServer: ManagementServer;
  let port: number;
  try {
    managementServer = await startManagementServer({
      logger,
      metrics,
      ready: async () => ({ ready: supergraphLoaded && (await subgraphsAnswer()), starting: starting.list() }),
      ...config.management,
    });
  } catch (error) {
    await release();
    throw error;
  }
  try {
    port = await listen(httpServer, config.port, config.host);
  } catch (error) {
    await managementServer.close();
    await release();
    throw error;
  }
  const url = `http://localhost:${port}/graphql`;
  logger.info(
    { port, managementPort: managementServer.port, subgraphs: subgraphNames, redis: !!redis, purging },
    'gateway listening',
  );
  return {
    url,
    port,
    management: { host: managementServer.host, port: managementServer.port, url: managementServer.url },
    metrics,
    cache: store,
    hitPath: hitPath && { stats: hitPath.stats, clear: hitPath.clear },
    passthrough: passthrough && { stats: passthrough.stats },
    onCachePurge(listener) {
      purgeListeners.add(listener);
      return () => purgeListeners.delete(listener);
    },
    async stop() {
      stopping = true;
      managementServer.drain();
      await purgeSubscription?.stop();
      await stopPurgeLag?.();
      await kafka?.close();
      await apollo.stop();
      subgraphClient.close();
      await store.close();
      redis?.disconnect();
      // Last: probes and the final scrape still answer while requests drain.
      await managementServer.close();
      logger.info('gateway stopped');
    },
  };
}
