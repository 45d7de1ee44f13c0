import path from 'node:path';
import { ConfigError, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, env, parseConfig, z } from '@commerce/platform';
import { DEFAULT_PORTS, managementPort, REPO_ROOT, SERVICE_NAMES, type ServiceName } from './services.ts';

/**
 * The service's database: `<SERVICE>_DATABASE_URL`, else `DATABASE_URL`, else embedded PGlite under DATA_DIR.
 * Read on its own too, by tools that only write rows (create-admin) and need nothing else configured.
 */
export function serviceDatabaseUrl(service: ServiceName, source: Record<string, string | undefined> = process.env): string {
  const prefix = service.toUpperCase();
  const vars = parseConfig(
    {
      [`${prefix}_DATABASE_URL`]: z.string().optional(),
      DATABASE_URL: z.string().optional(),
      DATA_DIR: z.string().default(path.join(REPO_ROOT, '.data')),
    },
    source,
  ) as Record<string, string | undefined>;
  const url = vars[`${prefix}_DATABASE_URL`] ?? vars.DATABASE_URL ?? `pglite:${path.join(vars.DATA_DIR!, service)}`;
  if (!/^(postgres(ql)?:\/\/|pglite:)/.test(url)) {
    throw new ConfigError([{ variable: `${prefix}_DATABASE_URL`, problem: 'must be a postgresql:// URL or pglite:<dir>' }]);
  }
  return url;
}

/** Settings every subgraph reads; documented in docs/configuration.md. */
export function loadServiceConfig(service: ServiceName, source: Record<string, string | undefined> = process.env) {
  const prefix = service.toUpperCase();
  const shared = parseConfig(
    {
      NODE_ENV: env.nodeEnv(),
      LOG_LEVEL: env.logLevel(),
      HOST: z.string().default('0.0.0.0'),
      MANAGEMENT_HOST: env.managementHost(),
      DATA_DIR: z.string().default(path.join(REPO_ROOT, '.data')),
      DATABASE_URL: z.string().optional(),
      KAFKA_BROKERS: z.string().optional(),
      KAFKA_CLIENT_ID: z.string().default('commerce-graph'),
      KAFKA_TOPIC_PREFIX: z.string().default(''),
      KAFKA_TOPIC_PARTITIONS: env.positiveInt(3),
      KAFKA_KEY_CONCURRENCY: env.positiveInt(8),
      KAFKA_FETCH_MAX_WAIT_MS: env.positiveInt(500),
      EVENT_MAX_ATTEMPTS: env.positiveInt(5),
      OUTBOX_POLL_INTERVAL_MS: env.positiveInt(250),
      REDIS_URL: env.optionalUrl(),
      JWT_ISSUER: z.string().min(1).default('commerce-graph'),
      JWT_AUDIENCE: z.string().min(1).default('commerce-graph'),
      JWT_PRIVATE_KEY: z.string().optional(),
      JWT_KEY_ID: z.string().optional(),
      JWT_PUBLIC_KEYS: z.string().optional(),
      JWT_JWKS_URL: env.optionalUrl(),
      JWT_MAX_LIFETIME_SECONDS: env.positiveInt(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS),
      SUBGRAPH_AUTH_KEYS: z.string().optional(),
      CATALOG_URL: env.optionalUrl(),
      USERS_URL: env.optionalUrl(),
      ORDERS_URL: env.optionalUrl(),
      BILLING_URL: env.optionalUrl(),
    },
    source,
  );
  const own = parseConfig(
    {
      [`${prefix}_PORT`]: env.port(DEFAULT_PORTS[service]),
      [`${prefix}_MANAGEMENT_PORT`]: env.optionalPort(),
    },
    source,
  ) as Record<string, unknown>;
  const databaseUrl = serviceDatabaseUrl(service, source);
  const port = own[`${prefix}_PORT`] as number;
  const management = {
    host: shared.MANAGEMENT_HOST,
    port: managementPort(service, port, own[`${prefix}_MANAGEMENT_PORT`] as number | undefined),
  };
  if (management.port !== 0 && management.port === port) {
    throw new ConfigError([{ variable: `${prefix}_MANAGEMENT_PORT`, problem: `must differ from ${prefix}_PORT` }]);
  }
  return {
    service,
    production: shared.NODE_ENV === 'production',
    nodeEnv: shared.NODE_ENV,
    logLevel: shared.LOG_LEVEL,
    host: shared.HOST,
    port,
    /** `/health`, `/ready`, `/metrics`: a listener of their own, never the client-facing port. */
    management,
    databaseUrl,
    dataDir: shared.DATA_DIR,
    kafkaBrokers:
      shared.KAFKA_BROKERS?.split(',')
        .map((broker) => broker.trim())
        .filter(Boolean) ?? [],
    kafkaClientId: shared.KAFKA_CLIENT_ID,
    /** Prepended to every topic and consumer group (isolates test runs sharing one broker). */
    kafkaTopicPrefix: shared.KAFKA_TOPIC_PREFIX,
    events: {
      topicPartitions: shared.KAFKA_TOPIC_PARTITIONS,
      /** Events of different keys a consumer handles side by side (one key's events stay in order). */
      keyConcurrency: shared.KAFKA_KEY_CONCURRENCY,
      /** How long the broker may hold a fetch open while it has nothing new (latency vs idle CPU). */
      fetchMaxWaitMs: shared.KAFKA_FETCH_MAX_WAIT_MS,
      maxAttempts: shared.EVENT_MAX_ATTEMPTS,
      outboxPollIntervalMs: shared.OUTBOX_POLL_INTERVAL_MS,
    },
    redisUrl: shared.REDIS_URL,
    /** Where the other subgraphs answer, for the few calls a service makes over the graph (orders asks the catalog). */
    subgraphUrls: Object.fromEntries(
      SERVICE_NAMES.map((name) => [
        name,
        shared[`${name.toUpperCase()}_URL` as `${Uppercase<ServiceName>}_URL`] ??
          `http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`,
      ]),
    ) as Record<ServiceName, string>,
    /** The keyring of the subgraph access tokens (required in production; see loadSubgraphAccessKeys). */
    subgraphAccess: {
      production: shared.NODE_ENV === 'production',
      dataDir: shared.DATA_DIR,
      keys: shared.SUBGRAPH_AUTH_KEYS,
    },
    jwt: {
      production: shared.NODE_ENV === 'production',
      dataDir: shared.DATA_DIR,
      issuer: shared.JWT_ISSUER,
      audience: shared.JWT_AUDIENCE,
      privateKeyPem: shared.JWT_PRIVATE_KEY?.replace(/\\n/g, '\n'),
      keyId: shared.JWT_KEY_ID,
      publicKeys: shared.JWT_PUBLIC_KEYS,
      jwksUrl: shared.JWT_JWKS_URL,
      maxLifetimeSeconds: shared.JWT_MAX_LIFETIME_SECONDS,
    },
  };
}

export type ServiceConfig = ReturnType<typeof loadServiceConfig>;
