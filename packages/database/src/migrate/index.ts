// Prisma migrations without the native schema engine: deploy and create run Prisma's own WebAssembly engine, so
// `_prisma_migrations` (checksums, timestamps, logs, failures) is exactly what `prisma migrate deploy` writes/reads.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../connection.ts';
import { engineConnection, scratchEngineConnection } from './engine-adapters.ts';
import { isApplied, isFailed, readHistory } from './history.ts';
import { migrationSlug, readMigrationList, withDefaultLockfile, writeMigration } from './migrations-dir.ts';
import { NO_FILTERS, withSchemaEngine } from './wasm-engine.ts';

export interface MigrationStatus {
  applied: string[];
  /** In the directory, neither applied nor failed. */
  pending: string[];
  /** Started but never finished and not resolved: blocks every deploy until resolved (Prisma's P3009). */
  failed: string[];
}

/** A migration failed now (P3018) or failed earlier and blocks deploy (P3009). `reason` is the database's error. */
export class MigrationError extends Error {
  constructor(
    readonly migration: string,
    readonly reason: string,
    readonly code: 'P3009' | 'P3018',
  ) {
    super(
      code === 'P3018'
        ? `migration ${migration} failed: ${reason}`
        : `migration ${migration} failed earlier and blocks deploy until resolved (prisma migrate resolve): ${reason}`,
    );
    this.name = 'MigrationError';
  }
}

/** Like `prisma migrate deploy`: applies pending migrations in order, each recorded in `_prisma_migrations`. */
export async function deployMigrations(db: Database, migrationsDir: string): Promise<{ applied: string[] }> {
  const migrationsList = await readMigrationList(migrationsDir);
  const connection = engineConnection(db);
  try {
    const result = await withSchemaEngine(connection.factory, (engine) =>
      engine.applyMigrations({ migrationsList, filters: NO_FILTERS }),
    );
    return { applied: result.appliedMigrationNames };
  } catch (error) {
    throw await explainDeployFailure(db, error, connection.lastScriptError());
  } finally {
    await connection.close();
  }
}

export async function migrationStatus(db: Database, migrationsDir: string): Promise<MigrationStatus> {
  const [list, history] = await Promise.all([readMigrationList(migrationsDir), readHistory(db.adapter)]);
  const applied = unique(history.filter(isApplied).map((record) => record.name));
  const failed = unique(history.filter(isFailed).map((record) => record.name));
  const pending = list.migrationDirectories
    .map((dir) => dir.path)
    .filter((name) => !applied.includes(name) && !failed.includes(name));
  return { applied, pending, failed };
}

/**
 * Like `prisma migrate dev --create-only`: diffs (migrations directory → schema) with the engine, replaying the
 * existing migrations on a throwaway in-memory PGlite, and writes <timestamp>_<name>/migration.sql.
 * Returns the new directory, or null when the schema matches the migrations.
 */
export async function createMigration(opts: { schemaPath: string; migrationsDir: string; name: string }): Promise<string | null> {
  migrationSlug(opts.name); // reject a bad name before the slow part
  const schemaPath = path.resolve(opts.schemaPath);
  const files = [{ path: schemaPath, content: await readFile(schemaPath, 'utf8') }];
  const list = await readMigrationList(opts.migrationsDir);
  const connection = await scratchEngineConnection();
  try {
    // Not engine.createMigration(): this wasm build rejects it on PostgreSQL ("shadow DB must be provided through
    // an external factory", even with connectToShadowDb). diff(migrations → schema) yields the same script.
    const { exitCode, stdout } = await withSchemaEngine(connection.factory, (engine) =>
      engine.diff({
        from: { tag: 'migrations', ...withDefaultLockfile(list) },
        to: { tag: 'schemaDatamodel', files },
        script: true,
        exitCode: true, // → exitCode 2 when there is a difference, 0 when there is none
        filters: NO_FILTERS,
      }),
    );
    if (exitCode !== 2 || !stdout) return null;
    return await writeMigration(list, opts.name, stdout);
  } catch (error) {
    throw withoutEngineTrace(error);
  } finally {
    await connection.close();
  }
}

async function explainDeployFailure(db: Database, error: unknown, scriptError: Error | undefined): Promise<unknown> {
  const failed = (await readHistory(db.adapter).catch(() => [])).filter(isFailed);
  // This run failed applying a script: the engine recorded it as the newest failed row.
  const current = failed.at(-1);
  if (scriptError && current) return new MigrationError(current.name, scriptError.message, 'P3018');
  // An earlier failure: the engine refused to start (P3009).
  const blocking = failed[0];
  if (blocking) return new MigrationError(blocking.name, reasonFromLogs(blocking.logs), 'P3009');
  return withoutEngineTrace(error);
}

// Engine errors end with a Rust span trace ("   0: schema_engine_wasm::…  at schema-engine/…"): useless to users.
function withoutEngineTrace(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const message = stripTrace(error.message);
  if (message === error.message) return error;
  return Object.assign(new Error(message, { cause: error }), { code: (error as { code?: unknown }).code });
}

function stripTrace(text: string): string {
  const lines = text.split('\n');
  const traceStart = lines.findIndex((line) => /^\s+\d+: \S+::/.test(line));
  return (traceStart === -1 ? lines : lines.slice(0, traceStart)).join('\n').trim();
}

// The engine logs the database error after an "external connector error" header (see engine-adapters.ts).
function reasonFromLogs(logs: string | null): string {
  const text = stripTrace(logs ?? '').replace(/^external connector error\s*/, '');
  return (
    text
      .split('\n')
      .find((line) => line.trim())
      ?.trim() ?? 'no error recorded'
  );
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}
