// Reads Prisma's `_prisma_migrations` table (written by the schema engine) without creating it.
import { isDriverAdapterError, type SqlDriverAdapterFactory, type SqlQueryable } from '@prisma/driver-adapter-utils';

export interface MigrationRecord {
  name: string;
  finished: boolean; // finished_at is set: applied
  rolledBack: boolean; // rolled_back_at is set: ignored, except as an audit trail (`prisma migrate resolve`)
  logs: string | null;
}

export async function readHistory(adapterFactory: SqlDriverAdapterFactory): Promise<MigrationRecord[]> {
  return readHistoryRows(adapterFactory).catch((error: unknown) => {
    throw readable(error);
  });
}

async function readHistoryRows(adapterFactory: SqlDriverAdapterFactory): Promise<MigrationRecord[]> {
  const adapter = await adapterFactory.connect();
  try {
    const present = await query(adapter, `SELECT to_regclass('_prisma_migrations') IS NOT NULL`);
    if (present[0]?.[0] !== true) return [];
    const rows = await query(
      adapter,
      `SELECT migration_name, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, logs
         FROM _prisma_migrations ORDER BY started_at, migration_name`,
    );
    return rows.map(([name, finished, rolledBack, logs]) => ({
      name: String(name),
      finished: finished === true,
      rolledBack: rolledBack === true,
      logs: typeof logs === 'string' ? logs : null,
    }));
  } finally {
    await adapter.dispose();
  }
}

/** Failed = started, never finished, not marked rolled back: what makes `prisma migrate deploy` stop (P3009). */
export function isFailed(record: MigrationRecord): boolean {
  return !record.finished && !record.rolledBack;
}

export function isApplied(record: MigrationRecord): boolean {
  return record.finished && !record.rolledBack;
}

async function query(adapter: SqlQueryable, sql: string): Promise<unknown[][]> {
  return (await adapter.queryRaw({ sql, args: [], argTypes: [] })).rows;
}

// Adapters throw DriverAdapterErrors whose message is only the kind ("DatabaseNotReachable"); the details are in
// `cause` (the engine formats them itself, but here we talk to the adapter directly).
function readable(error: unknown): unknown {
  if (!isDriverAdapterError(error)) return error;
  const { kind, originalMessage, ...details } = error.cause as { kind: string; originalMessage?: string; [key: string]: unknown };
  if (originalMessage) return new Error(originalMessage, { cause: error });
  if (kind === 'DatabaseNotReachable') {
    return new Error(`Can't reach database server at ${String(details.host)}:${String(details.port)}`, { cause: error });
  }
  return new Error(Object.keys(details).length ? `${kind} ${JSON.stringify(details)}` : kind, { cause: error });
}
