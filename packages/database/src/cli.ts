// Migrations CLI (what `npm run db:migrate|db:status|db:create-migration` call):
//   tsx packages/database/src/cli.ts deploy|status|create [--service catalog|users|orders|billing|all] [--name <name>]
// Service X: schema prisma/X/schema.prisma, migrations prisma/X/migrations, database from X_DATABASE_URL, else
// DATABASE_URL, else an embedded PGlite at $DATA_DIR/X (default <repo>/.data/X), as in docs/configuration.md.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { databaseTargetFromUrl, openDatabase, type DatabaseTarget } from './connection.ts';
import { createMigration, deployMigrations, migrationStatus } from './migrate/index.ts';

export const SERVICES = ['catalog', 'users', 'orders', 'billing'] as const;
const COMMANDS = ['deploy', 'status', 'create'] as const;
const USAGE = `usage: cli.ts ${COMMANDS.join('|')} [--service ${SERVICES.join('|')}|all] [--name <migration-name>]`;

export interface CliContext {
  root: string; // repo root: holds prisma/<service>/ (and .data/ unless DATA_DIR says otherwise)
  env: Record<string, string | undefined>;
  out(line: string): void;
  err(line: string): void;
}

/** Runs one command; returns the exit code (0 ok, 1 failure or not up to date, 2 usage). */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  let services: readonly string[];
  let command: string;
  let name: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { service: { type: 'string', default: 'all' }, name: { type: 'string' } },
    });
    [command = ''] = positionals;
    name = values.name;
    const service = values.service!;
    if (!(COMMANDS as readonly string[]).includes(command) || positionals.length > 1) throw new Error('');
    if (service !== 'all' && !(SERVICES as readonly string[]).includes(service)) throw new Error('');
    if (command === 'create' && !name) throw new Error('create needs --name <migration-name>');
    services = service === 'all' ? SERVICES : [service];
  } catch (error) {
    if ((error as Error).message) ctx.err((error as Error).message);
    ctx.err(USAGE);
    return 2;
  }

  let exitCode = 0;
  for (const service of services) {
    const prefix = `${service}:`;
    try {
      const dir = path.join(ctx.root, 'prisma', service);
      const schemaPath = path.join(dir, 'schema.prisma');
      const migrationsDir = path.join(dir, 'migrations');
      if (!existsSync(schemaPath)) {
        if (services.length === 1) throw new Error(`${rel(ctx, schemaPath)} not found`);
        ctx.out(`${prefix} skipped (no ${rel(ctx, schemaPath)})`);
        continue;
      }
      if (command === 'create') {
        const created = await createMigration({ schemaPath, migrationsDir, name: name! });
        ctx.out(created ? `${prefix} created ${rel(ctx, created)}` : `${prefix} schema unchanged, no migration created`);
        continue;
      }
      const target = targetFor(service, ctx);
      const db = await openDatabase(target);
      try {
        if (command === 'deploy') {
          const { applied } = await deployMigrations(db, migrationsDir);
          for (const migration of applied) ctx.out(`${prefix} applied ${migration}`);
          if (applied.length === 0) ctx.out(`${prefix} up to date (${describe(target, ctx)})`);
        } else {
          const { applied, pending, failed } = await migrationStatus(db, migrationsDir);
          const counts = `${applied.length} applied, ${pending.length} pending, ${failed.length} failed`;
          ctx.out(`${prefix} ${counts} (${describe(target, ctx)})`);
          for (const migration of failed) ctx.out(`${prefix} failed ${migration}`);
          for (const migration of pending) ctx.out(`${prefix} pending ${migration}`);
          if (pending.length || failed.length) exitCode = 1; // like `prisma migrate status`
        }
      } finally {
        await db.close();
      }
    } catch (error) {
      // One line, no stack: a MigrationError's message names the migration and carries the database's error.
      const message = error instanceof Error ? error.message : String(error);
      ctx.err(`${prefix} ${message.replace(/\s*\n\s*/g, ' ')}`);
      if (ctx.env.DEBUG) ctx.err(String((error as Error).stack));
      return 1;
    }
  }
  return exitCode;
}

function targetFor(service: string, ctx: CliContext): DatabaseTarget {
  const url = ctx.env[`${service.toUpperCase()}_DATABASE_URL`] || ctx.env.DATABASE_URL;
  if (url) return databaseTargetFromUrl(url);
  return { kind: 'pglite', dataDir: path.resolve(ctx.root, ctx.env.DATA_DIR || '.data', service) };
}

// Never print credentials.
function describe(target: DatabaseTarget, ctx: CliContext): string {
  if (target.kind === 'pglite') {
    return `pglite ${target.dataDir === 'memory://' ? 'in memory' : rel(ctx, target.dataDir)}`;
  }
  const url = new URL(target.url);
  return `postgres ${url.host}${url.pathname}`;
}

// Relative to the repo root when inside it, else absolute.
function rel(ctx: CliContext, file: string): string {
  const relative = path.relative(ctx.root, path.resolve(file));
  return relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(file) : relative || '.';
}

const entry = process.argv[1] && path.resolve(process.argv[1]);
if (entry === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const ctx: CliContext = { root, env: process.env, out: console.log, err: console.error };
  // process.exit: a pool or wasm handle left behind must not keep a finished command alive.
  runCli(process.argv.slice(2), ctx).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
