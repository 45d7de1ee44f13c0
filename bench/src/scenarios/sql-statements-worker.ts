/**
 * Child process for scenario 5 (batching): the catalog subgraph with every SQL statement counted
 * (`countStatements` from the testkit), behind our gateway, both in this process. Counts the statements
 * one request costs for storefront pages of 10, 50 and 100 products, and for `_entities` calls of 10,
 * 50 and 100 product references (what the gateway sends when an order line needs its product).
 * Prints one JSON line `{"ready":true,"result":{...}}`.
 * Usage: sql-statements-worker.ts   (CATALOG_DATABASE_URL: pglite:memory or a fresh PostgreSQL database)
 */
import { createLogger, createSubgraphTokenSigner } from '@commerce/platform';
import { createServiceRuntime } from '@commerce/runtime';
import { loadGatewayConfig, startGateway } from '@commerce/gateway';
import { countStatements } from '@commerce/testkit/sql-counter';
import { demoCatalog, seedDemoCatalog } from '@commerce/catalog/adapters/prisma/demo-catalog';
import { startService } from '@commerce/catalog';
import { STOREFRONT_PAGE, graphqlBody } from '../queries.ts';

export interface StatementCount {
  kind: 'storefront page' | '_entities';
  size: number;
  /** Statements per request, for each repetition (they should all be equal). */
  perRequest: number[];
  /** The statements of the last repetition, shortened, in order. */
  statements: string[];
}

const SIZES = [10, 50, 100];
const REPETITIONS = 3;
const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    ... on Product { id name price { amountCents currency } category { id name } stock { available inStock } }
  }
}`;

const silent = (service: string) => createLogger({ service, level: 'silent' });
const env = { ...process.env, CATALOG_PORT: '0', LOG_LEVEL: 'silent', HOST: '127.0.0.1', KAFKA_BROKERS: '' };
const runtime = await createServiceRuntime('catalog', { env, logger: silent('catalog') });
const counted = countStatements(runtime.database.adapter);
const catalog = await startService({ ...runtime, database: { ...runtime.database, adapter: counted.adapter } });
const gateway = await startGateway(
  loadGatewayConfig({
    ...env,
    GATEWAY_PORT: '0',
    CATALOG_URL: catalog.url,
    GATEWAY_RESPONSE_CACHE: 'false',
    GATEWAY_RATE_LIMIT_POINTS: '1000000',
  }),
  silent('gateway'),
  { bus: runtime.bus },
);
const gatewayUrl = `http://127.0.0.1:${gateway.port}/graphql`;

try {
  await seedDemoCatalog(catalog.prisma);
  const products = demoCatalog().products;
  // The outbox relay polls on the same connection; its statements and transaction brackets are not the request's.
  const requestStatements = () =>
    counted.log.statements.filter((sql) => !/outbox_events/.test(sql) && !/^\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(sql));

  // Direct calls to the catalog present a subgraph access token, as the gateway's do.
  const catalogAccess = createSubgraphTokenSigner(runtime.accessKeys, 'bench');
  async function measure(url: string, body: string): Promise<string[]> {
    counted.log.reset();
    const headers = { 'content-type': 'application/json', ...(url === catalog.url ? catalogAccess.headersFor('catalog') : {}) };
    const response = await fetch(url, { method: 'POST', headers, body });
    const text = await response.text();
    if (!response.ok || text.includes('"errors"')) throw new Error(`request failed: ${text.slice(0, 300)}`);
    return requestStatements();
  }

  const counts: StatementCount[] = [];
  for (const size of SIZES) {
    const body = graphqlBody(STOREFRONT_PAGE, { first: size });
    await measure(gatewayUrl, body); // warm: first request plans the query
    const perRequest: number[] = [];
    let statements: string[] = [];
    for (let i = 0; i < REPETITIONS; i++) {
      statements = await measure(gatewayUrl, body);
      perRequest.push(statements.length);
    }
    counts.push({ kind: 'storefront page', size, perRequest, statements: statements.map(shorten) });
  }
  for (const size of SIZES) {
    const representations = products.slice(0, size).map((product) => ({ __typename: 'Product', id: product.id }));
    const body = graphqlBody(ENTITIES, { representations });
    const perRequest: number[] = [];
    let statements: string[] = [];
    for (let i = 0; i < REPETITIONS; i++) {
      statements = await measure(catalog.url, body);
      perRequest.push(statements.length);
    }
    counts.push({ kind: '_entities', size, perRequest, statements: statements.map(shorten) });
  }
  process.stdout.write(JSON.stringify({ ready: true, result: { database: runtime.database.target.kind, counts } }) + '\n');
} finally {
  await gateway.stop();
  await catalog.stop();
}

function shorten(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}
process.exit(0);
