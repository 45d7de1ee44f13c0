// Driver adapters handed to the schema engine. They differ from `Database.adapter` (used by PrismaClient) in how
// migration scripts run and fail, and in never needing a shadow database on a real one.
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlDriverAdapterFactory,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { blankClusterImage, PGLITE_MEMORY, pgliteAdapterFactory, pgliteOf, type Database } from '../connection.ts';

export interface EngineConnection {
  readonly factory: SqlMigrationAwareDriverAdapterFactory;
  /** The database's own error from the last migration script that failed, if any. */
  lastScriptError(): Error | undefined;
  close(): Promise<void>;
}

/**
 * Engine connection to an opened database, for deploy. Not patched: adapter-pg cannot decode PostgreSQL's "char"
 * (oid 18), which the engine's schema describer selects (introspect, db push, diff from a live database, drift
 * checks). applyMigrations never describes the schema (see migrate.int.test.ts), and we never ask for those.
 */
export function engineConnection(db: Database): EngineConnection {
  const errors = new ScriptErrors();
  if (db.target.kind === 'pglite') {
    const pglite = pgliteOf(db);
    if (!pglite) throw new Error('database is not open (openDatabase() returned it?)');
    // Same PGlite instance as the app's: a second instance on the directory would corrupt it.
    const factory = withoutShadow(pgliteAdapterFactory(pglite, errors.capture));
    return { factory, lastScriptError: errors.last, close: async () => {} };
  }

  const pool = new pg.Pool({ connectionString: db.target.url, max: 2 });
  pool.on('error', () => {}); // idle-client errors surface on the next query instead of crashing the process
  const inner = new PrismaPg(pool); // external pool: adapters' dispose() leaves it open, close() ends it
  const factory = withoutShadow({
    provider: inner.provider,
    adapterName: inner.adapterName,
    async connect(): Promise<SqlDriverAdapter> {
      const adapter = await inner.connect();
      // adapter-pg's executeScript splits the script on ';' (breaking $$-quoted bodies and string literals) and
      // runs each piece on its own, so a failing statement leaves the earlier ones applied. The native engine
      // sends the whole script as one simple-protocol query, which PostgreSQL runs as one implicit transaction.
      adapter.executeScript = async (script) => {
        await pool.query(script).catch(errors.capture);
      };
      return adapter;
    },
  });
  return { factory, lastScriptError: errors.last, close: () => pool.end() };
}

/**
 * Engine connection to a throwaway in-memory PGlite, for `diff` from a migrations directory: the engine replays the
 * migrations on the "shadow database" and diffs the result. We serve the shadow ourselves because the stock
 * factories get it wrong: pglite-prisma-adapter's shadow never closes and runs scripts without awaiting them, and
 * adapter-pg's connects to the main database (its `connectionString` overrides the shadow's `database`) and
 * drops the shadow database while its pool is still connected.
 */
export async function scratchEngineConnection(): Promise<EngineConnection> {
  const errors = new ScriptErrors();
  // From the blank cluster image, like every in-memory database: initdb would take seconds per call.
  const pglite = await PGlite.create(PGLITE_MEMORY, { loadDataDir: await blankClusterImage() });
  const base = pgliteAdapterFactory(pglite, errors.capture);
  // SchemaEngine.new() always opens a main connection too; diff works on the shadow, so one empty database serves both.
  const factory: SqlMigrationAwareDriverAdapterFactory = { ...bind(base), connectToShadowDb: () => base.connect() };
  return { factory, lastScriptError: errors.last, close: () => pglite.close() };
}

function withoutShadow(base: SqlDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory {
  return {
    ...bind(base),
    connectToShadowDb: () => Promise.reject(new Error('deploy/status never need a shadow database')),
  };
}

function bind(base: SqlDriverAdapterFactory): SqlDriverAdapterFactory {
  return { provider: base.provider, adapterName: base.adapterName, connect: () => base.connect() };
}

interface PgError {
  code: string;
  message: string;
  severity: string;
  detail?: string;
  hint?: string;
  column?: string;
}

/**
 * Keeps the database's own error from a failed migration script (for a clear one-line report), and hands it on
 * as a DriverAdapterError, which is what adapters' methods throw and how the engine expects database errors; it
 * then records the failure in `_prisma_migrations.logs` and stops, like the native engine.
 */
class ScriptErrors {
  private error: Error | undefined;
  readonly last = (): Error | undefined => this.error;
  readonly capture = (error: unknown): never => {
    if (!isPgError(error)) throw error;
    this.error = error as PgError & Error;
    throw new DriverAdapterError({
      kind: 'postgres',
      code: error.code,
      severity: error.severity,
      message: error.message,
      detail: error.detail,
      column: error.column,
      hint: error.hint,
    });
  };
}

// A server error (pg's and PGlite's DatabaseError), not a client-side one such as ECONNRESET (which has no severity).
function isPgError(error: unknown): error is PgError {
  const e = error as Partial<PgError>;
  return error instanceof Error && typeof e.code === 'string' && typeof e.severity === 'string';
}
