// Migration scenarios shared by migrate.test.ts (PGlite) and migrate.int.test.ts (real PostgreSQL).
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../connection.ts';
import { engineConnection } from './engine-adapters.ts';
import { readMigrationList } from './migrations-dir.ts';
import { createMigration, deployMigrations, MigrationError, migrationStatus } from './index.ts';
import { NO_FILTERS, withSchemaEngine } from './wasm-engine.ts';

const DATASOURCE = 'datasource db {\n  provider = "postgresql"\n}\n';
const WIDGET = 'model Widget {\n  id   Int    @id @default(autoincrement())\n  name String\n  kind String @db.Char(1)\n}\n';
const GADGET = 'model Gadget {\n  id       String @id @db.Uuid\n  widgetId Int    @map("widget_id")\n}\n';
// Every PGlite (a test database, each createMigration's shadow) boots in seconds, far slower on a busy machine.
const SLOW = 180_000;

export async function query(db: Database, sql: string): Promise<unknown[][]> {
  const adapter = await db.adapter.connect();
  try {
    return (await adapter.queryRaw({ sql, args: [], argTypes: [] })).rows;
  } finally {
    await adapter.dispose();
  }
}

async function tables(db: Database): Promise<string[]> {
  const rows = await query(db, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename COLLATE "C"`);
  return rows.map(([name]) => String(name));
}

export function migrationScenarios(openFreshDatabase: () => Promise<Database>): void {
  let dir: string;
  let migrationsDir: string;
  let db: Database;

  const addMigration = async (name: string, sql: string) => {
    await mkdir(path.join(migrationsDir, name), { recursive: true });
    await writeFile(path.join(migrationsDir, name, 'migration.sql'), sql);
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'commerce-migrate-'));
    migrationsDir = path.join(dir, 'migrations');
    db = await openFreshDatabase();
  }, SLOW);
  afterEach(async () => {
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'applies a migration and records it as prisma migrate deploy does; a second deploy applies nothing',
    async () => {
      const sql = 'CREATE TABLE "Widget" ("id" SERIAL PRIMARY KEY, "name" TEXT NOT NULL);\n';
      await addMigration('20240101000000_init', sql);

      expect(await deployMigrations(db, migrationsDir)).toEqual({ applied: ['20240101000000_init'] });
      expect(await tables(db)).toEqual(['Widget', '_prisma_migrations']);
      const [row] = await query(
        db,
        `SELECT migration_name, checksum, started_at IS NOT NULL, finished_at IS NOT NULL, logs, rolled_back_at,
              applied_steps_count FROM _prisma_migrations`,
      );
      const sha256 = createHash('sha256').update(sql).digest('hex');
      expect(row).toEqual(['20240101000000_init', sha256, true, true, null, null, 1]);

      expect(await deployMigrations(db, migrationsDir)).toEqual({ applied: [] });
      expect(await migrationStatus(db, migrationsDir)).toEqual({
        applied: ['20240101000000_init'],
        pending: [],
        failed: [],
      });
      // The engine's own history check (what `prisma migrate status`/`deploy` run first) sees no edits or drift.
      const connection = engineConnection(db);
      try {
        const diagnosis = await withSchemaEngine(connection.factory, async (engine) =>
          engine.diagnoseMigrationHistory({
            migrationsList: await readMigrationList(migrationsDir),
            optInToShadowDatabase: false,
            filters: NO_FILTERS,
          }),
        );
        expect(diagnosis).toEqual({
          editedMigrationNames: [],
          failedMigrationNames: [],
          hasMigrationsTable: true,
          history: null,
        });
      } finally {
        await connection.close();
      }
    },
    SLOW,
  );

  it(
    'reports a broken migration as failed, keeps nothing of it, and refuses to deploy past it',
    async () => {
      await addMigration('20240101000000_ok', 'CREATE TABLE ok (id int);\n');
      await addMigration('20240102000000_broken', 'CREATE TABLE half_done (id int);\nINSERT INTO missing VALUES (1);\n');
      await addMigration('20240103000000_later', 'CREATE TABLE later (id int);\n');

      const failure = await deployMigrations(db, migrationsDir).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(MigrationError);
      expect(failure).toMatchObject({ migration: '20240102000000_broken', code: 'P3018' });
      expect((failure as MigrationError).reason).toMatch(/relation "missing" does not exist/);
      expect((failure as Error).message).not.toContain('\n');
      // The script runs as one implicit transaction, like the native engine: no half-applied migration.
      expect(await tables(db)).toEqual(['_prisma_migrations', 'ok']);

      const [failedRow] = await query(
        db,
        `SELECT finished_at, rolled_back_at, applied_steps_count, logs FROM _prisma_migrations
        WHERE migration_name = '20240102000000_broken'`,
      );
      expect(failedRow?.slice(0, 3)).toEqual([null, null, 0]);
      expect(String(failedRow?.[3])).toMatch(/missing/);

      const status = { applied: ['20240101000000_ok'], pending: ['20240103000000_later'], failed: ['20240102000000_broken'] };
      expect(await migrationStatus(db, migrationsDir)).toEqual(status);

      const blocked = await deployMigrations(db, migrationsDir).catch((error: unknown) => error);
      expect(blocked).toMatchObject({ name: 'MigrationError', migration: '20240102000000_broken', code: 'P3009' });
      expect(await tables(db)).toEqual(['_prisma_migrations', 'ok']);
      expect(await migrationStatus(db, migrationsDir)).toEqual(status);
    },
    SLOW,
  );

  it(
    'sends each script whole: semicolons inside $$ bodies and strings survive',
    async () => {
      await addMigration(
        '20240101000000_function',
        `CREATE TABLE notes (body text NOT NULL);
INSERT INTO notes VALUES ('a; b');
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.body := NEW.body || ';';
  RETURN NEW;
END;
$$;
`,
      );
      expect(await deployMigrations(db, migrationsDir)).toEqual({ applied: ['20240101000000_function'] });
      expect(await query(db, 'SELECT body FROM notes')).toEqual([['a; b']]);
    },
    SLOW,
  );

  it(
    'creates a migration from a schema change, deploys it, and creates nothing when nothing changed',
    async () => {
      const schemaPath = path.join(dir, 'schema.prisma');
      await writeFile(schemaPath, DATASOURCE + WIDGET);

      const first = await createMigration({ schemaPath, migrationsDir, name: 'Add widgets' });
      expect(first).toMatch(/[/\\]\d{14}_add_widgets$/);
      const firstSql = await readFile(path.join(first!, 'migration.sql'), 'utf8');
      expect(firstSql).toContain('CREATE TABLE "Widget"');
      expect(firstSql).toContain('"kind" CHAR(1) NOT NULL');
      expect(await readFile(path.join(migrationsDir, 'migration_lock.toml'), 'utf8')).toContain('provider = "postgresql"');
      expect(await createMigration({ schemaPath, migrationsDir, name: 'nothing' })).toBeNull();

      await writeFile(schemaPath, DATASOURCE + WIDGET + GADGET);
      const second = await createMigration({ schemaPath, migrationsDir, name: 'gadgets' });
      const secondSql = await readFile(path.join(second!, 'migration.sql'), 'utf8');
      expect(secondSql).toContain('CREATE TABLE "Gadget"');
      expect(secondSql).not.toContain('"Widget"');
      // Created within the same second, yet ordered after the first (directories apply in name order).
      expect((await readdir(migrationsDir)).filter((name) => name !== 'migration_lock.toml')).toEqual([
        path.basename(first!),
        path.basename(second!),
      ]);

      expect(await deployMigrations(db, migrationsDir)).toEqual({
        applied: [path.basename(first!), path.basename(second!)],
      });
      expect(await tables(db)).toEqual(['Gadget', 'Widget', '_prisma_migrations']);
      expect(await createMigration({ schemaPath, migrationsDir, name: 'still nothing' })).toBeNull();
      expect(await readdir(migrationsDir)).toHaveLength(3); // two migrations + migration_lock.toml
    },
    SLOW,
  );
}
