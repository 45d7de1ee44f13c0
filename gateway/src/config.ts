import path from 'node:path';
import { ConfigError, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, env, parseConfig, z } from '@commerce/platform';
import { DEFAULT_PORTS, managementPort, REPO_ROOT, SERVICE_NAMES, type ServiceName } from '@commerce/runtime/services';
import type { JwtKeyConfig, SubgraphAccessConfig } from '@commerce/runtime/keys';

const commaList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );

/** Gateway settings; every variable is documented in docs/configuration.md ("Gateway"). */
export function loadGatewayConfig(source: Record<string, string | undefined> = process.env) {
  const parsed = parseConfig(
    {
      NODE_ENV: env.nodeEnv(),
      LOG_LEVEL: env.logLevel(),
      HOST: z.string().default('0.0.0.0'),
      GATEWAY_PORT: env.port(DEFAULT_PORTS.gateway),
      MANAGEMENT_HOST: env.managementHost(),
      GATEWAY_MANAGEMENT_PORT: env.optionalPort(),
      DATA_DIR: z.string().default(path.join(REPO_ROOT, '.data')),
      CATALOG_URL: env.optionalUrl(),
      USERS_URL: env.optionalUrl(),
      ORDERS_URL: env.optionalUrl(),
      BILLING_URL: env.optionalUrl(),
      SUBGRAPH_TIMEOUT_MS: env.positiveInt(10_000),
      SUBGRAPH_MAX_SOCKETS: env.positiveInt(64),
      SUBGRAPH_DEDUPE_QUERIES: env.bool(true),
      GATEWAY_SINGLE_FETCH_PASSTHROUGH: env.bool(true),
      REDIS_URL: env.optionalUrl(),
      GATEWAY_REDIS_PREFIX: z.string().min(1).default('gateway:'),
      KAFKA_BROKERS: z.string().optional(),
      KAFKA_CLIENT_ID: z.string().default('commerce-graph'),
      KAFKA_TOPIC_PREFIX: z.string().default(''),
      JWT_ISSUER: z.string().min(1).default('commerce-graph'),
      JWT_AUDIENCE: z.string().min(1).default('commerce-graph'),
      JWT_PRIVATE_KEY: z.string().optional(),
      JWT_KEY_ID: z.string().optional(),
      JWT_PUBLIC_KEYS: z.string().optional(),
      JWT_JWKS_URL: env.optionalUrl(),
      JWT_MAX_LIFETIME_SECONDS: env.positiveInt(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS),
      SUBGRAPH_AUTH_KEYS: z.string().optional(),
      GATEWAY_TRUST_PROXY: env.trustProxy('loopback'),
      GATEWAY_CORS_ORIGINS: commaList(''),
      GATEWAY_BODY_LIMIT_BYTES: env.positiveInt(100 * 1024),
      GATEWAY_MAX_BATCH_SIZE: z.coerce.number().int().min(0).default(5),
      GATEWAY_MAX_DEPTH: env.positiveInt(10),
      GATEWAY_MAX_COST: env.positiveInt(5000),
      GATEWAY_COST_DEFAULT_LIST_SIZE: env.positiveInt(10),
      GATEWAY_MAX_ALIASES: env.positiveInt(15),
      GATEWAY_MAX_TOKENS: env.positiveInt(2000),
      GATEWAY_MAX_DIRECTIVES: env.positiveInt(10),
      GATEWAY_MAX_VARIABLES_DEPTH: env.positiveInt(32),
      GATEWAY_RATE_LIMIT_POINTS: env.positiveInt(600),
      GATEWAY_RATE_LIMIT_WINDOW_SECONDS: env.positiveInt(60),
      GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: env.positiveInt(10),
      GATEWAY_RATE_LIMIT_SENSITIVE_WINDOW_SECONDS: env.positiveInt(60),
      GATEWAY_RATE_LIMIT_SENSITIVE_FIELDS: commaList(
        'login,register,refreshToken,changePassword,checkout,placeOrder,addPaymentMethod,refundPayment',
      ),
      GATEWAY_RATE_LIMIT_ADDRESS_FIELDS: commaList('login,register,refreshToken,changePassword'),
      GATEWAY_RESPONSE_CACHE: env.bool(true),
      GATEWAY_CACHE_MEMORY_MAX_BYTES: env.positiveInt(64 * 1024 * 1024),
      GATEWAY_CACHE_HIT_PATH: env.bool(true),
      GATEWAY_CACHE_HIT_PATH_MAX_BYTES: env.positiveInt(32 * 1024 * 1024),
      GATEWAY_APQ: env.bool(true),
      GATEWAY_APQ_TTL_SECONDS: env.positiveInt(7 * 24 * 3600),
      GATEWAY_APQ_MAX_BYTES: env.positiveInt(16 * 1024 * 1024),
      GATEWAY_APQ_REGISTRATIONS: env.positiveInt(30),
      GATEWAY_APQ_REGISTRATION_WINDOW_SECONDS: env.positiveInt(60),
      GATEWAY_SAFELIST_FILE: z.string().optional(),
      GATEWAY_PLAYGROUND: env.bool(true),
      GATEWAY_EVENTS_GROUP_ID: z.string().min(1).default('gateway-cache-purge'),
    },
    source,
  );
  const production = parsed.NODE_ENV === 'production';
  const management = {
    host: parsed.MANAGEMENT_HOST,
    port: managementPort('gateway', parsed.GATEWAY_PORT, parsed.GATEWAY_MANAGEMENT_PORT),
  };
  if (management.port !== 0 && management.port === parsed.GATEWAY_PORT) {
    throw new ConfigError([{ variable: 'GATEWAY_MANAGEMENT_PORT', problem: 'must differ from GATEWAY_PORT' }]);
  }
  const subgraphUrls = Object.fromEntries(
    SERVICE_NAMES.map((name) => [
      name,
      parsed[`${name.toUpperCase()}_URL` as `${Uppercase<ServiceName>}_URL`] ?? `http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`,
    ]),
  ) as Record<ServiceName, string>;
  const jwt: JwtKeyConfig = {
    production,
    dataDir: parsed.DATA_DIR,
    issuer: parsed.JWT_ISSUER,
    audience: parsed.JWT_AUDIENCE,
    privateKeyPem: parsed.JWT_PRIVATE_KEY?.replace(/\\n/g, '\n'),
    keyId: parsed.JWT_KEY_ID,
    publicKeys: parsed.JWT_PUBLIC_KEYS,
    jwksUrl: parsed.JWT_JWKS_URL,
    maxLifetimeSeconds: parsed.JWT_MAX_LIFETIME_SECONDS,
  };
  /** The keyring the gateway signs its subgraph access tokens with (required in production). */
  const subgraphAccess: SubgraphAccessConfig = { production, dataDir: parsed.DATA_DIR, keys: parsed.SUBGRAPH_AUTH_KEYS };
  return {
    production,
    nodeEnv: parsed.NODE_ENV,
    logLevel: parsed.LOG_LEVEL,
    host: parsed.HOST,
    port: parsed.GATEWAY_PORT,
    /** `/health`, `/ready`, `/metrics`: a listener of their own, never the client-facing port. */
    management,
    subgraphUrls,
    subgraphTimeoutMs: parsed.SUBGRAPH_TIMEOUT_MS,
    subgraphMaxSockets: parsed.SUBGRAPH_MAX_SOCKETS,
    subgraphDedupeQueries: parsed.SUBGRAPH_DEDUPE_QUERIES,
    singleFetchPassthrough: parsed.GATEWAY_SINGLE_FETCH_PASSTHROUGH,
    redisUrl: parsed.REDIS_URL,
    redisKeyPrefix: parsed.GATEWAY_REDIS_PREFIX,
    kafkaBrokers:
      parsed.KAFKA_BROKERS?.split(',')
        .map((broker) => broker.trim())
        .filter(Boolean) ?? [],
    kafkaClientId: parsed.KAFKA_CLIENT_ID,
    kafkaTopicPrefix: parsed.KAFKA_TOPIC_PREFIX,
    jwt,
    subgraphAccess,
    http: {
      /** Whose X-Forwarded-For names the client: its rate limits, logs and the address passed to the subgraphs. */
      trustProxy: parsed.GATEWAY_TRUST_PROXY,
      corsOrigins: parsed.GATEWAY_CORS_ORIGINS,
      bodyLimitBytes: parsed.GATEWAY_BODY_LIMIT_BYTES,
      maxBatchSize: parsed.GATEWAY_MAX_BATCH_SIZE,
    },
    limits: {
      maxDepth: parsed.GATEWAY_MAX_DEPTH,
      maxCost: parsed.GATEWAY_MAX_COST,
      defaultListSize: parsed.GATEWAY_COST_DEFAULT_LIST_SIZE,
      maxAliases: parsed.GATEWAY_MAX_ALIASES,
      maxTokens: parsed.GATEWAY_MAX_TOKENS,
      maxDirectives: parsed.GATEWAY_MAX_DIRECTIVES,
      /** How deep `variables` and `extensions` may nest (checked before anything recursive reads them). */
      maxVariablesDepth: parsed.GATEWAY_MAX_VARIABLES_DEPTH,
    },
    rateLimit: {
      points: parsed.GATEWAY_RATE_LIMIT_POINTS,
      windowSeconds: parsed.GATEWAY_RATE_LIMIT_WINDOW_SECONDS,
      sensitivePoints: parsed.GATEWAY_RATE_LIMIT_SENSITIVE_POINTS,
      sensitiveWindowSeconds: parsed.GATEWAY_RATE_LIMIT_SENSITIVE_WINDOW_SECONDS,
      sensitiveFields: parsed.GATEWAY_RATE_LIMIT_SENSITIVE_FIELDS,
      /** Auth fields: counted per client address (and per account), never per the bearer token's user. */
      addressFields: parsed.GATEWAY_RATE_LIMIT_ADDRESS_FIELDS,
    },
    cache: {
      responseCache: parsed.GATEWAY_RESPONSE_CACHE,
      memoryMaxBytes: parsed.GATEWAY_CACHE_MEMORY_MAX_BYTES,
      hitPath: parsed.GATEWAY_CACHE_HIT_PATH,
      hitPathMaxBytes: parsed.GATEWAY_CACHE_HIT_PATH_MAX_BYTES,
      eventsGroupId: parsed.GATEWAY_EVENTS_GROUP_ID,
    },
    persistedQueries: {
      apq: parsed.GATEWAY_APQ,
      ttlSeconds: parsed.GATEWAY_APQ_TTL_SECONDS,
      /** The APQ store's own bound (memory LRU, or the Redis structure's), apart from the response cache. */
      maxBytes: parsed.GATEWAY_APQ_MAX_BYTES,
      /** Registrations (a query sent with its hash) per client address and window. */
      registrations: parsed.GATEWAY_APQ_REGISTRATIONS,
      registrationWindowSeconds: parsed.GATEWAY_APQ_REGISTRATION_WINDOW_SECONDS,
      safelistFile: parsed.GATEWAY_SAFELIST_FILE,
    },
    playground: parsed.GATEWAY_PLAYGROUND,
  };
}

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export type QueryLimits = GatewayConfig['limits'];
export type RateLimitSettings = GatewayConfig['rateLimit'];
