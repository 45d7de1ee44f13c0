// Migrations CLI (what `npm run db:migrate|db:status|db:create-migration` call):
//   tsx packages/database/src/cli.ts deploy|status|create [--service catalog|users|orders|billing|all] [--name <name>]
// Service X: schema prisma/X/schema.prisma, migrations prisma/X/migrations, database from X_DATABASE_URL, else
// DATABASE_URL, else an embedded PGlite at .data/X (repo root).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { databaseTargetFromUrl, openDatabase, type DatabaseTarget } from './connection.ts';
import { createMigration, deployMigrations, migrationStatus } from './migrate/index.ts';

const SERVICES = ['catalog', 'users', 'orders', 'billing'] as const;
const COMMANDS = ['deploy', 'status', 'create'] as const;
type Command = (typeof COMMANDS)[number];
const USAGE = `usage: cli.ts ${COMMANDS.join('|')} [--service ${SERVICES.join('|')}|all] [--name <migration-name>]`;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { service: { type: 'string', default: 'all' }, name: { type: 'string' } },
  });
  const command = positionals[0] as Command | undefined;
  if (!command || !COMMANDS.includes(command) || positionals.length > 1) throw new UsageError(USAGE);
  if (command === 'create' && !values.name) throw new UsageError(`create needs --name <migration-name>\n${USAGE}`);
  const all = values.service === 'all';
  if (!all && !SERVICES.includes(values.service as (typeof SERVICES)[number])) throw new UsageError(USAGE);

  let exitCode = 0;
  for (const service of all ? SERVICES : [values.service!]) {
    const dir = path.join(root, 'prisma', service);
    const schemaPath = path.join(dir, 'schema.prisma');
    if (!existsSync(schemaPath)) {
      if (!all) throw new Error(`${service}: ${rel(schemaPath)} not found`);
      console.log(`${service}: skipped (no ${rel(schemaPath)})`);
      continue;
    }
    const migrationsDir = path.join(dir, 'migrations');
    if (command === 'create') {
      const created = await createMigration({ schemaPath, migrationsDir, name: values.name! });
      console.log(created ? `${service}: created ${rel(created)}` : `${service}: schema unchanged, no migration created`);
      continue;
    }
    const target = targetFor(service);
    const db = await openDatabase(target);
    try {
      if (command === 'deploy') {
        const { applied } = await deployMigrations(db, migrationsDir);
        for (const name of applied) console.log(`${service}: applied ${name}`);
        if (applied.length === 0) console.log(`${service}: up to date (${describe(target)})`);
      } else {
        const { applied, pending, failed } = await migrationStatus(db, migrationsDir);
        const counts = `${applied.length} applied, ${pending.length} pending, ${failed.length} failed`;
        console.log(`${service}: ${counts} (${describe(target)})`);
        for (const name of failed) console.log(`${service}: failed ${name}`);
        for (const name of pending) console.log(`${service}: pending ${name}`);
        if (pending.length || failed.length) exitCode = 1; // like `prisma migrate status`
      }
    } catch (error) {
      // Say which service failed; a MigrationError's message already names the migration and the database error.
      throw new Error(`${service}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      await db.close();
    }
  }
  return exitCode;
}

function targetFor(service: string): DatabaseTarget {
  const url = process.env[`${service.toUpperCase()}_DATABASE_URL`] || process.env.DATABASE_URL;
  return url ? databaseTargetFromUrl(url) : { kind: 'pglite', dataDir: path.join(root, '.data', service) };
}

// Never print credentials.
function describe(target: DatabaseTarget): string {
  if (target.kind === 'pglite') return `pglite ${target.dataDir === 'memory://' ? 'in memory' : rel(target.dataDir)}`;
  const url = new URL(target.url);
  return `postgres ${url.host}${url.pathname}`;
}

function rel(file: string): string {
  return path.relative(process.cwd(), path.resolve(file)) || '.';
}

// process.exit: a wasm engine or pool handle left behind must not keep a finished command alive.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    // No stack: the message says it all (a MigrationError's is one line: migration name and database error).
    console.error(error instanceof Error ? error.message : String(error));
    if (process.env.DEBUG && !usage) console.error(error);
    process.exit(usage ? 2 : 1);
  },
);
