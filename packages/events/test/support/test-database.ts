// A real Prisma client for the events package's tests, generated from test/prisma/schema.prisma on
// first use (the package must not depend on any subgraph's client). Works on PGlite and PostgreSQL.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deployMigrations, openDatabase, type Database, type DatabaseTarget } from '@commerce/database';
import type { OutboxDatabase, OutboxTransaction, RawSql } from '../../src/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../..');
const schema = path.resolve(here, '../prisma/schema.prisma');
const migrations = path.resolve(here, '../prisma/migrations');
const client = path.resolve(here, '../generated/prisma/client.ts');
const lock = path.resolve(here, '../generated/.generating');

export type TestTransaction = RawSql & OutboxTransaction;

/** The generated client, seen through the structural ports the package offers (plus what tests need). */
export interface TestPrisma extends OutboxDatabase {
  $transaction<R>(fn: (tx: TestTransaction) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
  outboxEvent: OutboxTransaction['outboxEvent'];
  $disconnect(): Promise<void>;
}

function generateIfStale(): void {
  const fresh = () => existsSync(client) && statSync(client).mtimeMs >= statSync(schema).mtimeMs;
  if (fresh()) return;
  mkdirSync(path.dirname(lock), { recursive: true });
  // Jest workers may get here together: one generates, the others wait for it.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    if (fresh()) return;
    const result = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/prisma/build/index.js'), 'generate', '--schema', schema],
      {
        cwd: root,
        encoding: 'utf8',
        env: {
          ...process.env,
          PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true',
          PRISMA_HIDE_UPDATE_MESSAGE: '1',
          CHECKPOINT_DISABLE: '1',
        },
      },
    );
    if (result.status !== 0) throw new Error(`prisma generate failed: ${result.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}

export interface TestDatabaseHandle {
  prisma: TestPrisma;
  database: Database;
  /** Another client on the same database (a second relay instance, a second consumer process). */
  connect(): Promise<TestPrisma>;
  close(): Promise<void>;
}

/** Opens the target, applies the test migrations and returns a Prisma client on it. */
export async function openTestDatabase(target: DatabaseTarget): Promise<TestDatabaseHandle> {
  generateIfStale();
  const { PrismaClient } = (await import(pathToFileURL(client).href)) as {
    PrismaClient: new (options: { adapter: Database['adapter'] }) => TestPrisma;
  };
  const database = await openDatabase(target);
  await deployMigrations(database, migrations);
  const clients: TestPrisma[] = [];
  const connect = async () => {
    const prisma = new PrismaClient({ adapter: database.adapter });
    clients.push(prisma);
    return prisma;
  };
  const prisma = await connect();
  return {
    prisma,
    database,
    connect,
    async close() {
      for (const c of clients) await c.$disconnect();
      await database.close();
    },
  };
}
