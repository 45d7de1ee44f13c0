/**
 * Composition root of the catalog subgraph: wires the Prisma adapters, the GraphQL adapter and the
 * event adapters to the ports, from a ServiceRuntime that configuration chose (embedded or full mode).
 */
import { loadSubgraphSchema, runMain, startSubgraphServer, type RunningServer } from '@commerce/platform';
import { createServiceRuntime, type ServiceRuntime } from '@commerce/runtime';
import { PrismaClient } from './generated/prisma/client.ts';
import { PrismaProductRepository } from './adapters/prisma/prisma-product-repository.ts';
import { createCatalogLoaders } from './adapters/graphql/loaders.ts';
import { resolvers, type CatalogContext } from './adapters/graphql/resolvers.ts';
import { seedDemoCatalog } from './adapters/prisma/demo-catalog.ts';

export interface CatalogService extends RunningServer {
  prisma: PrismaClient;
}

export async function startService(runtime: ServiceRuntime): Promise<CatalogService> {
  const prisma = new PrismaClient({ adapter: runtime.database.adapter });
  const products = new PrismaProductRepository(prisma);
  const server = await startSubgraphServer<CatalogContext>({
    name: 'catalog',
    port: runtime.config.port,
    host: runtime.config.host,
    logger: runtime.logger,
    metrics: runtime.metrics,
    production: runtime.config.production,
    authenticate: runtime.authenticate,
    schema: loadSubgraphSchema(new URL('./adapters/graphql/schema.graphql', import.meta.url), resolvers),
    context: (base) => ({ ...base, products, loaders: createCatalogLoaders(products) }),
    ready: async () => {
      await prisma.$queryRaw`SELECT 1`;
      return true;
    },
  });
  return {
    ...server,
    prisma,
    async stop() {
      await server.stop();
      await prisma.$disconnect();
      await runtime.close();
    },
  };
}

/** Embedded mode and the seed script call this on a fresh database. */
export async function seedDemoData(runtime: ServiceRuntime): Promise<string[]> {
  const prisma = new PrismaClient({ adapter: runtime.database.adapter });
  try {
    const result = await seedDemoCatalog(prisma);
    return result.seeded ? [`catalog: ${result.products} demo products`] : [];
  } finally {
    await prisma.$disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain('catalog', undefined, async () => startService(await createServiceRuntime('catalog')));
}
