/**
 * The catalog subgraph on a throwaway real PostgreSQL database, behind a real gateway, with every SQL
 * statement it sends counted (for the integration tests).
 */
import { createLogger } from '@commerce/platform';
import { createServiceRuntime } from '@commerce/runtime';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@commerce/gateway';
import {
  countStatements,
  createTestDatabase,
  subgraphAccessHeaders,
  testJwtEnv,
  type StatementLog,
  type TestDatabase,
} from '@commerce/testkit';
import { startService, type CatalogService } from '../src/main.ts';

export interface CatalogOnPostgres {
  catalog: CatalogService;
  gatewayUrl: string;
  sql: StatementLog;
  /** POSTs to the gateway. */
  query<Data>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLBody<Data>>;
  /** POSTs straight to the catalog subgraph (as the gateway's query planner does). */
  subgraph<Data>(query: string, variables?: Record<string, unknown>): Promise<GraphQLBody<Data>>;
  stop(): Promise<void>;
}

export interface GraphQLBody<Data> {
  data?: Data;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

async function post<Data>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLBody<Data>;
}

export async function startCatalogOnPostgres(options: { gatewayEnv?: Record<string, string> } = {}): Promise<CatalogOnPostgres> {
  const database: TestDatabase = await createTestDatabase('catalog');
  let gateway: RunningGateway | undefined;
  let catalog: CatalogService | undefined;
  try {
    const env = { ...testJwtEnv(), NODE_ENV: 'test', LOG_LEVEL: 'silent', HOST: '127.0.0.1' };
    const runtime = await createServiceRuntime('catalog', {
      env: { ...env, CATALOG_PORT: '0', CATALOG_DATABASE_URL: database.url },
    });
    const counted = countStatements(runtime.database.adapter);
    catalog = await startService({ ...runtime, database: { ...runtime.database, adapter: counted.adapter } });
    gateway = await startGateway(
      loadGatewayConfig({
        ...env,
        GATEWAY_PORT: '0',
        CATALOG_URL: catalog.url,
        GATEWAY_RATE_LIMIT_POINTS: '100000',
        ...options.gatewayEnv,
      }),
      createLogger({ service: 'gateway', level: 'silent' }),
      { bus: runtime.bus },
    );
    const gatewayUrl = `http://127.0.0.1:${gateway.port}/graphql`;
    const running = { catalog, gateway };
    return {
      catalog,
      gatewayUrl,
      sql: counted.log,
      query: (query, variables, headers) => post(gatewayUrl, query, variables, headers),
      subgraph: (query, variables) => post(running.catalog.url, query, variables, subgraphAccessHeaders('catalog')),
      async stop() {
        await running.gateway.stop();
        await running.catalog.stop();
        await database.drop();
      },
    };
  } catch (error) {
    await gateway?.stop();
    await catalog?.stop();
    await database.drop();
    throw error;
  }
}
