/**
 * Composition root of the orders subgraph: wires the Prisma adapters (repositories, unit of work,
 * outbox), the catalog and users HTTP adapters and the GraphQL adapter to the ports, from a ServiceRuntime that
 * configuration chose (embedded or full mode).
 */
import { randomUUID } from 'node:crypto';
import { createSubgraphTokenSigner, env, parseConfig, runMain, type RunningServer } from '@commerce/platform';
import { createServiceRuntime, startOutboxRelay, startServiceServer, type ServiceRuntime } from '@commerce/runtime';
import { PrismaClient } from './generated/prisma/client.ts';
import { GraphQLProductCatalog } from './adapters/catalog/graphql-product-catalog.ts';
import { GraphQLAddressBook } from './adapters/users/graphql-address-book.ts';
import { createOrdersLoaders } from './adapters/graphql/loaders.ts';
import { resolvers, type OrdersContext } from './adapters/graphql/resolvers.ts';
import { PrismaCartRepository } from './adapters/prisma/prisma-cart-repository.ts';
import { PrismaOrderRepository } from './adapters/prisma/prisma-order-repository.ts';
import { PrismaUnitOfWork } from './adapters/prisma/prisma-unit-of-work.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { OrdersDependencies } from './ports/orders-dependencies.ts';
import type { ProductCatalog } from './ports/product-catalog.ts';
import type { AddressBook } from './ports/address-book.ts';
import { startOrdersSaga } from './adapters/events/saga-consumer.ts';
import { PendingOrderSweeper } from './adapters/events/pending-order-sweeper.ts';
import { registerPendingOrderAge, SagaOutcomeMetrics } from './adapters/metrics/orders-metrics.ts';

export interface OrdersService extends RunningServer {
  prisma: PrismaClient;
  /** The wired use-case dependencies (event consumers call the use cases with them). */
  deps: OrdersDependencies;
  /** Cancels orders left PENDING longer than ORDER_PENDING_TIMEOUT_MS (tests call `sweep()` directly). */
  sweeper: PendingOrderSweeper;
}

export function createOrdersDependencies(
  prisma: PrismaClient,
  catalog: ProductCatalog,
  addresses: AddressBook,
  clock: Clock = systemClock,
): OrdersDependencies {
  return {
    unitOfWork: new PrismaUnitOfWork(prisma, clock),
    orders: new PrismaOrderRepository(prisma),
    carts: new PrismaCartRepository(prisma),
    catalog,
    addresses,
    clock,
    ids: { next: randomUUID },
  };
}

export async function startService(runtime: ServiceRuntime): Promise<OrdersService> {
  const prisma = new PrismaClient({ adapter: runtime.database.adapter });
  // The catalog and users answer only calls with a subgraph access token; orders signs its own (issuer "orders").
  const access = createSubgraphTokenSigner(runtime.accessKeys, 'orders');
  const catalog = new GraphQLProductCatalog({
    url: runtime.config.subgraphUrls.catalog,
    logger: runtime.logger,
    accessHeaders: () => access.headersFor('catalog'),
  });
  // Checkout reads the buyer's address book as the buyer (their forwarded token): no new trust in orders.
  const addresses = new GraphQLAddressBook({
    url: runtime.config.subgraphUrls.users,
    logger: runtime.logger,
    accessHeaders: () => access.headersFor('users'),
  });
  const deps = createOrdersDependencies(prisma, catalog, addresses);
  // Orders' events (OrderPlaced, OrderCancelled, ...) leave through the outbox; a commit wakes the relay.
  const relay = startOutboxRelay(runtime, prisma);
  // Orders leaving PENDING are counted once committed, whichever path moved them (saga, sweeper, a cancel).
  const outcomes = new SagaOutcomeMetrics(runtime.metrics.registry);
  registerPendingOrderAge(runtime.metrics.registry, prisma, deps.clock);
  const unitOfWork = outcomes.counting(deps.unitOfWork);
  deps.unitOfWork = {
    run: async (work) => {
      const result = await unitOfWork.run(work);
      relay.notify();
      return result;
    },
  };
  const { ORDER_PENDING_TIMEOUT_MS: pendingTimeoutMs } = parseConfig(
    { ORDER_PENDING_TIMEOUT_MS: env.positiveInt(60_000) },
    runtime.env,
  );
  const sweeper = new PendingOrderSweeper(prisma, deps, {
    timeoutMs: pendingTimeoutMs,
    logger: runtime.logger.child({ component: 'pending-order-sweeper' }),
  }).start();
  const server = await startServiceServer<OrdersContext>(runtime, {
    schemaFile: new URL('./adapters/graphql/schema.graphql', import.meta.url),
    resolvers,
    context: (base) => ({ ...base, deps, loaders: createOrdersLoaders(deps.orders, deps.catalog) }),
    database: prisma,
  });
  // After the server: after a SIGKILL the group lets a new member in only once the dead one's session
  // expired, and the API must not wait for that (/ready lists the group under `starting` meanwhile).
  const saga = await startOrdersSaga(runtime, prisma, deps.clock, () => relay.notify(), outcomes);
  return {
    ...server,
    prisma,
    deps,
    sweeper,
    async stop() {
      await sweeper.stop();
      await saga.stop();
      await server.stop();
      await relay.stop();
      await prisma.$disconnect();
      await runtime.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain('orders', undefined, async () => startService(await createServiceRuntime('orders')));
}
