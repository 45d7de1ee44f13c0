export {
  databaseTargetFromUrl,
  openDatabase,
  type Database,
  type DatabaseTarget,
  type OpenDatabaseOptions,
} from './connection.ts';
export { createMigration, deployMigrations, MigrationError, migrationStatus, type MigrationStatus } from './migrate/index.ts';
export { sumPoolStats, trackingPgPools, type PoolCounters, type PoolStats } from './pool-metrics.ts';
export { ensureDatabase } from './create-database.ts';
