/**
 * Composition root of the catalog subgraph: wires the Prisma adapters, the GraphQL adapter and the
 * event adapters to the ports, from a ServiceRuntime that configuration chose (embedded or full mode).
 */
import { runMain, type RunningServer } from '@commerce/platform';
import { createServiceRuntime, startOutboxRelay, startServiceServer, type ServiceRuntime } from '@commerce/runtime';
import type { Database } from '@commerce/database';
import { PrismaClient } from './generated/prisma/client.ts';
import { PrismaProductRepository } from './adapters/prisma/prisma-product-repository.ts';
import { PrismaCategoryRepository } from './adapters/prisma/prisma-category-repository.ts';
import { PrismaCatalogStore } from './adapters/prisma/prisma-catalog-store.ts';
import { createCatalogLoaders } from './adapters/graphql/loaders.ts';
import { resolvers, type CatalogContext } from './adapters/graphql/resolvers.ts';
import { seedDemoCatalog } from './adapters/prisma/demo-catalog.ts';
import { startCatalogSaga } from './adapters/events/saga-consumer.ts';
import { reserveStock } from './application/reserve-stock.ts';
import { releaseStock } from './application/release-stock.ts';
import { commitStock } from './application/commit-stock.ts';
import type { CatalogStore } from './ports/catalog-store.ts';
import type { StockReservations } from './ports/stock-reservations.ts';

export interface CatalogService extends RunningServer {
  prisma: PrismaClient;
  /** The saga's port into the catalog (the event consumers call it on OrderPlaced, PaymentFailed, ...). */
  stockReservations: StockReservations;
}

export function createStockReservations(store: CatalogStore): StockReservations {
  return {
    reserve: (command, cause) => reserveStock(store, command, cause),
    release: (orderId, cause) => releaseStock(store, { orderId }, cause),
    commit: (orderId, cause) => commitStock(store, { orderId }, cause),
  };
}

export async function startService(runtime: ServiceRuntime): Promise<CatalogService> {
  const prisma = new PrismaClient({ adapter: runtime.database.adapter });
  const products = new PrismaProductRepository(prisma);
  const categories = new PrismaCategoryRepository(prisma);
  // Catalog events leave through the outbox: the gateway purges cached responses on them, the saga reacts.
  const relay = startOutboxRelay(runtime, prisma);
  const store = new PrismaCatalogStore(prisma, { afterCommit: () => relay.notify() });
  const server = await startServiceServer<CatalogContext>(runtime, {
    schemaFile: new URL('./adapters/graphql/schema.graphql', import.meta.url),
    resolvers,
    context: (base) => ({ ...base, products, categories, store, loaders: createCatalogLoaders(products, categories) }),
    database: prisma,
  });
  // The order saga: OrderPlaced / PaymentFailed / OrderCancelled / OrderShipped move the stock.
  const saga = await startCatalogSaga(runtime, prisma, () => relay.notify());
  return {
    ...server,
    prisma,
    stockReservations: createStockReservations(store),
    async stop() {
      await saga.stop();
      await server.stop();
      await relay.stop();
      await prisma.$disconnect();
      await runtime.close();
    },
  };
}

/**
 * Embedded mode calls this at every start and `npm run seed` on demand: the demo catalog goes into an
 * empty catalog database only, and never in production (there `npm run seed -- --import-catalog` asks for it).
 */
export async function seedDemoData(runtime: ServiceRuntime): Promise<string[]> {
  if (runtime.config.production) return [];
  const prisma = new PrismaClient({ adapter: runtime.database.adapter });
  try {
    const result = await seedDemoCatalog(prisma);
    return result.seeded
      ? [`catalog: ${result.products} demo products in ${result.categories} categories (${result.outOfStock} sold out)`]
      : [];
  } finally {
    await prisma.$disconnect();
  }
}

/**
 * The sample catalog (categories, products, stock) into an empty catalog database, production included:
 * it holds no accounts or credentials, so an operator may load it explicitly (`--import-catalog`).
 */
export async function importCatalog(database: Pick<Database, 'adapter'>): Promise<string[]> {
  const prisma = new PrismaClient({ adapter: database.adapter });
  try {
    const result = await seedDemoCatalog(prisma);
    return result.seeded
      ? [`catalog: ${result.products} products in ${result.categories} categories (${result.outOfStock} sold out)`]
      : ['catalog: already has products; nothing imported'];
  } finally {
    await prisma.$disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain('catalog', undefined, async () => startService(await createServiceRuntime('catalog')));
}
