import { createLogger, createServiceMetrics, type Authenticator, type Logger, type ServiceMetrics } from '@commerce/platform';
import { databaseTargetFromUrl, deployMigrations, openDatabase, type Database } from '@commerce/database';
import { InProcessEventBus, type EventBus } from '@commerce/events';
import { loadServiceConfig, type ServiceConfig } from './config.ts';
import { migrationsDir, type ServiceName } from './services.ts';
import { loadJwtKeys, type JwtKeys } from './keys.ts';

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

export async function createServiceRuntime(name: ServiceName, overrides: RuntimeOverrides = {}): Promise<ServiceRuntime> {
  const env = overrides.env ?? process.env;
  const config = loadServiceConfig(name, env);
  const jwt = loadJwtKeys(config.jwt);
  const logger = overrides.logger ?? createLogger({ service: name, level: config.logLevel });
  const database = await openDatabase(databaseTargetFromUrl(config.databaseUrl));
  try {
    const { applied } = await deployMigrations(database, migrationsDir(name));
    if (applied.length > 0) logger.info({ applied }, 'database migrations applied');
  } catch (error) {
    await database.close();
    throw error;
  }
  const ownBus = overrides.bus ? undefined : new InProcessEventBus();
  const bus = overrides.bus ?? ownBus!;
  return {
    name,
    config,
    env,
    logger,
    metrics: createServiceMetrics(name),
    database,
    bus,
    authenticate: overrides.authenticate ?? jwt.authenticate,
    jwt,
    async close() {
      await ownBus?.close();
      await database.close();
    },
  };
}
