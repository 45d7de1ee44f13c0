import { env, parseConfig, z } from '@commerce/platform';
import { DEFAULT_PORTS, SERVICE_NAMES, type ServiceName } from '@commerce/runtime/services';

/** Gateway settings; documented in docs/configuration.md. */
export function loadGatewayConfig(source: Record<string, string | undefined> = process.env) {
  const parsed = parseConfig(
    {
      NODE_ENV: env.nodeEnv(),
      LOG_LEVEL: env.logLevel(),
      HOST: z.string().default('0.0.0.0'),
      GATEWAY_PORT: env.port(DEFAULT_PORTS.gateway),
      CATALOG_URL: env.optionalUrl(),
      USERS_URL: env.optionalUrl(),
      ORDERS_URL: env.optionalUrl(),
      BILLING_URL: env.optionalUrl(),
      SUBGRAPH_TIMEOUT_MS: env.positiveInt(10_000),
    },
    source,
  );
  const subgraphUrls = Object.fromEntries(
    SERVICE_NAMES.map((name) => [
      name,
      parsed[`${name.toUpperCase()}_URL` as `${Uppercase<ServiceName>}_URL`] ?? `http://127.0.0.1:${DEFAULT_PORTS[name]}/graphql`,
    ]),
  ) as Record<ServiceName, string>;
  return {
    production: parsed.NODE_ENV === 'production',
    logLevel: parsed.LOG_LEVEL,
    host: parsed.HOST,
    port: parsed.GATEWAY_PORT,
    subgraphUrls,
    subgraphTimeoutMs: parsed.SUBGRAPH_TIMEOUT_MS,
  };
}

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
