/**
 * Composition root of the users subgraph: accounts, sessions and the keys every service trusts. Wires the
 * Prisma, security and GraphQL adapters to the ports, from a ServiceRuntime that configuration chose.
 */
import { runMain, type RunningServer } from '@commerce/platform';
import { createServiceRuntime, startOutboxRelay, startServiceServer, type ServiceRuntime } from '@commerce/runtime';
import { PrismaClient } from './generated/prisma/client.ts';
import { loadUsersSettings } from './config.ts';
import { connectRedis, createUsersDependencies } from './wiring.ts';
import { createUsersLoaders } from './adapters/graphql/loaders.ts';
import { resolvers, type UsersContext } from './adapters/graphql/resolvers.ts';
import { jwksRoute } from './adapters/http/jwks-route.ts';
import { seedDemoUsers } from './adapters/prisma/demo-users.ts';

export interface UsersService extends RunningServer {
  prisma: PrismaClient;
}

export async function startService(runtime: ServiceRuntime): Promise<UsersService> {
  const settings = loadUsersSettings(runtime.env);
  const prisma = new PrismaClient({ adapter: runtime.database.adapter });
  const redis = runtime.config.redisUrl ? connectRedis(runtime.config.redisUrl, runtime.logger) : undefined;
  // UserRegistered leaves through the outbox.
  const relay = startOutboxRelay(runtime, prisma);
  const release = async () => {
    await relay.stop();
    redis?.disconnect();
    await prisma.$disconnect();
    await runtime.close();
  };
  try {
    const deps = createUsersDependencies(runtime, prisma, settings, redis);
    const server = await startServiceServer<UsersContext>(runtime, {
      schemaFile: new URL('./adapters/graphql/schema.graphql', import.meta.url),
      resolvers,
      context: (base) => ({ ...base, deps, loaders: createUsersLoaders(deps.users, deps.addresses) }),
      routes: jwksRoute(runtime.jwt.verificationKeys, settings.jwksMaxAgeSeconds),
      trustProxy: settings.trustProxy,
      database: prisma,
    });
    return {
      ...server,
      prisma,
      async stop() {
        await server.stop();
        await release();
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * Embedded mode only: demo admin and customer accounts with known passwords, printed by `npm start`.
 * Never in production and never on a real PostgreSQL (full mode creates no default credentials).
 */
export async function seedDemoData(runtime: ServiceRuntime): Promise<string[]> {
  if (runtime.config.production || runtime.database.target.kind !== 'pglite') return [];
  const prisma = new PrismaClient({ adapter: runtime.database.adapter });
  try {
    return await seedDemoUsers(createUsersDependencies(runtime, prisma, loadUsersSettings(runtime.env)));
  } finally {
    await prisma.$disconnect();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain('users', undefined, async () => startService(await createServiceRuntime('users')));
}
