import {
  createLogger,
  createServiceMetrics,
  type Authenticator,
  type Logger,
  type ServiceMetrics,
  type SubgraphKeyring,
} from '@commerce/platform';
import { databaseTargetFromUrl, deployMigrations, openDatabase, type Database } from '@commerce/database';
import type { DeadLetter, EventBus, OutboxRelay } from '@commerce/events';
import { loadServiceConfig, type ServiceConfig } from './config.ts';
import { migrationsDir, type ServiceName } from './services.ts';
import { loadJwtKeys, loadSubgraphAccessKeys, type JwtKeys } from './keys.ts';
import { createEventBus, deadLetterReporter } from './events.ts';
import { registerDatabasePoolMetrics, withConsumerLagMetrics } from './service-metrics.ts';
import { BackgroundStarts } from './startup.ts';

/** Everything a subgraph's composition root needs from the outside world, chosen by configuration. */
export interface ServiceRuntime {
  name: ServiceName;
  config: ServiceConfig;
  /** The variables this runtime was configured from, for a service's own settings. */
  env: Record<string, string | undefined>;
  logger: Logger;
  metrics: ServiceMetrics;
  database: Database;
  bus: EventBus;
  authenticate: Authenticator;
  jwt: JwtKeys;
  /** The keyring of the subgraph access tokens: this service checks them and signs its own calls to other subgraphs. */
  accessKeys: SubgraphKeyring;
  /** What the service is still starting while it already serves (consumer groups joining); `/ready` lists it. */
  starting: BackgroundStarts;
  /** Outbox relays started on this runtime (`startOutboxRelay`). */
  relays: OutboxRelay[];
  /**
   * Counts a message parked by a bus shared with other services (embedded mode) on this service's
   * `events_dead_lettered_total` when the group is one of its own; a bus of its own counts by itself.
   */
  countDeadLetter?(letter: DeadLetter): void;
  /** Registers cleanup that `close()` runs first, last registered first (e.g. stopping the outbox relay). */
  onClose(cleanup: () => Promise<void>): void;
  /** Stops what this runtime opened (not a bus it was handed). */
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  env?: Record<string, string | undefined>;
  /** Embedded mode hands every service the same in-process bus. */
  bus?: EventBus;
  authenticate?: Authenticator;
  logger?: Logger;
}

/** Opens the service's database and applies its pending migrations (all a tool that only writes rows needs). */
export async function openServiceDatabase(name: ServiceName, databaseUrl: string, logger: Logger): Promise<Database> {
  const database = await openDatabase(databaseTargetFromUrl(databaseUrl), {
    // The driver's message only ("terminating connection due to administrator command"): no URL, no query.
    onConnectionError: (error) => logger.warn({ err: error.message }, 'database connection lost'),
  });
  try {
    const { applied } = await deployMigrations(database, migrationsDir(name));
    if (applied.length > 0) logger.info({ applied }, 'database migrations applied');
    return database;
  } catch (error) {
    await database.close();
    throw error;
  }
}

export async function createServiceRuntime(name: ServiceName, overrides: RuntimeOverrides = {}): Promise<ServiceRuntime> {
  const env = overrides.env ?? process.env;
  const config = loadServiceConfig(name, env);
  const jwt = loadJwtKeys(config.jwt);
  const accessKeys = loadSubgraphAccessKeys(config.subgraphAccess);
  const logger = overrides.logger ?? createLogger({ service: name, level: config.logLevel });
  const database = await openServiceDatabase(name, config.databaseUrl, logger);
  const metrics = createServiceMetrics(name);
  let ownBus: EventBus | undefined;
  try {
    // Kafka when KAFKA_BROKERS is set, else an in-process bus; embedded mode hands every service one shared bus.
    ownBus = overrides.bus ? undefined : await createEventBus(config, logger, metrics.registry);
  } catch (error) {
    await database.close();
    throw error;
  }
  registerDatabasePoolMetrics(metrics.registry, database);
  const lag = withConsumerLagMetrics(overrides.bus ?? ownBus!, {
    config,
    registry: metrics.registry,
    logger,
    ownKafkaBus: !overrides.bus && config.kafkaBrokers.length > 0,
  });
  const bus = lag.bus;
  const sharedBusDeadLetters = overrides.bus ? deadLetterReporter(metrics.registry) : undefined;
  const cleanups: (() => Promise<void>)[] = [];
  return {
    name,
    config,
    env,
    logger,
    metrics,
    database,
    bus,
    authenticate: overrides.authenticate ?? jwt.authenticate,
    jwt,
    accessKeys,
    starting: new BackgroundStarts(),
    relays: [],
    countDeadLetter(letter) {
      if (sharedBusDeadLetters && lag.ownsGroup(letter.groupId)) sharedBusDeadLetters(letter);
    },
    onClose(cleanup) {
      cleanups.push(cleanup);
    },
    async close() {
      for (const cleanup of cleanups.splice(0).reverse()) {
        await cleanup().catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'cleanup on close failed'));
      }
      await lag.stop();
      await ownBus?.close();
      await database.close();
    },
  };
}
