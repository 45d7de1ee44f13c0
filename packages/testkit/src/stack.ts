import { createLogger, type RunningServer } from '@commerce/platform';
import { availableSubgraphs, startEmbeddedSubgraphs, type EmbeddedStack, type ServiceName } from '@commerce/runtime';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@commerce/gateway';
import { createTestDatabase, type TestDatabase } from './postgres.ts';
import { testJwtEnv } from './tokens.ts';

export interface TestStack {
  gatewayUrl: string;
  /** The running gateway (its metrics and cache store). */
  gateway: RunningGateway;
  services: Record<string, RunningServer>;
  embedded: EmbeddedStack;
  env: Record<string, string>;
  /** POSTs a GraphQL request to the gateway. */
  query<Data = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: { data?: Data; errors?: { message: string; extensions?: Record<string, unknown> }[] } }>;
  stop(): Promise<void>;
}

export interface TestStackOptions {
  /** 'pglite' (in memory, default) or 'postgres' (fresh databases on TEST_DATABASE_URL). */
  database?: 'pglite' | 'postgres';
  env?: Record<string, string>;
  seed?: boolean;
}

/**
 * The whole graph on random loopback ports: every subgraph plus the gateway, as in embedded mode. Each
 * service's `/health`, `/ready` and `/metrics` are on its own management port: `gateway.management.url`,
 * `services[name].management.url`.
 */
export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const databases: TestDatabase[] = [];
  const env: Record<string, string> = {
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    MANAGEMENT_HOST: '127.0.0.1',
    ...testJwtEnv(),
    ...options.env,
  };
  for (const name of availableSubgraphs()) {
    env[`${name.toUpperCase()}_PORT`] = '0';
    env[`${name.toUpperCase()}_MANAGEMENT_PORT`] = '0';
    if (options.database === 'postgres') {
      const database = await createTestDatabase(name);
      databases.push(database);
      env[`${name.toUpperCase()}_DATABASE_URL`] = database.url;
    } else {
      env[`${name.toUpperCase()}_DATABASE_URL`] ??= 'pglite:memory';
    }
  }
  const silent = (service: string) => createLogger({ service, level: env.LOG_LEVEL ?? 'silent' });
  const embedded = await startEmbeddedSubgraphs({ env: { ...process.env, ...env }, seed: options.seed ?? false, logger: silent });
  const services = Object.fromEntries(embedded.services.map((service) => [service.name, service]));
  for (const [name, service] of Object.entries(services)) env[`${name.toUpperCase()}_URL`] = service.url;
  env.SUBGRAPH_AUTH_KEYS = embedded.subgraphAuthKeys; // the keyring the subgraphs accept: the gateway signs with it
  const gatewayConfig = loadGatewayConfig({ ...env, GATEWAY_PORT: '0', GATEWAY_MANAGEMENT_PORT: '0' });
  const gateway = await startGateway(gatewayConfig, silent('gateway'), { bus: embedded.bus });
  const gatewayUrl = `http://127.0.0.1:${gateway.port}/graphql`;
  return {
    gatewayUrl,
    gateway,
    services,
    embedded,
    env,
    async query(query, variables, headers = {}) {
      const response = await fetch(gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as never };
    },
    async stop() {
      await gateway.stop();
      await embedded.stop();
      for (const database of databases) await database.drop();
    },
  };
}

export type { ServiceName };
