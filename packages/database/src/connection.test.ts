import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { databaseTargetFromUrl, openDatabase, pgliteOf, type Database } from './connection.ts';

async function query(db: Database, sql: string): Promise<unknown[][]> {
  const adapter = await db.adapter.connect();
  try {
    return (await adapter.queryRaw({ sql, args: [], argTypes: [] })).rows;
  } finally {
    await adapter.dispose();
  }
}

describe('databaseTargetFromUrl', () => {
  it.each([
    ['postgres://u:p@localhost:5432/app', { kind: 'postgres', url: 'postgres://u:p@localhost:5432/app' }],
    ['postgresql://localhost/app?schema=x', { kind: 'postgres', url: 'postgresql://localhost/app?schema=x' }],
    ['pglite:./.data/catalog', { kind: 'pglite', dataDir: './.data/catalog' }],
    ['pglite:/abs/dir', { kind: 'pglite', dataDir: '/abs/dir' }],
    ['pglite:memory', { kind: 'pglite', dataDir: 'memory://' }],
    ['pglite:memory://', { kind: 'pglite', dataDir: 'memory://' }],
  ])('%s', (url, target) => {
    expect(databaseTargetFromUrl(url)).toEqual(target);
  });

  it('rejects other schemes without echoing credentials', () => {
    expect(() => databaseTargetFromUrl('mysql://root:hunter2@db/app')).toThrow(/mysql:/);
    expect(() => databaseTargetFromUrl('mysql://root:hunter2@db/app')).not.toThrow(/hunter2/);
    expect(() => databaseTargetFromUrl('pglite:')).toThrow(/Unsupported/);
  });
});

describe('openDatabase on PGlite', () => {
  const SLOW = 120_000; // a PGlite boots in seconds alone, but much slower on a busy 2-core machine
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'commerce-pglite-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'gives each in-memory database its own instance',
    async () => {
      const [a, b] = await Promise.all([
        openDatabase({ kind: 'pglite', dataDir: 'memory://' }),
        openDatabase({ kind: 'pglite', dataDir: 'memory://' }),
      ]);
      try {
        await query(a, 'CREATE TABLE only_in_a (id int)');
        expect(await query(b, `SELECT to_regclass('only_in_a') IS NULL`)).toEqual([[true]]);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    },
    SLOW,
  );

  it(
    'shares one instance per data directory until the last close, and persists to disk',
    async () => {
      const dataDir = path.join(dir, 'nested', 'db'); // parent directories are created
      const [a, b] = await Promise.all([
        openDatabase({ kind: 'pglite', dataDir }),
        openDatabase({ kind: 'pglite', dataDir: path.relative(process.cwd(), dataDir) }),
      ]);
      expect(pgliteOf(a)).toBe(pgliteOf(b));
      await query(a, 'CREATE TABLE kept (v text)');
      await query(a, `INSERT INTO kept VALUES ('x')`);
      await a.close();
      await a.close(); // idempotent: does not release b's share
      expect(await query(b, 'SELECT v FROM kept')).toEqual([['x']]);
      await b.close();
      expect(pgliteOf(b)?.closed).toBe(true);

      const reopened = await openDatabase({ kind: 'pglite', dataDir });
      try {
        expect(pgliteOf(reopened)).not.toBe(pgliteOf(a));
        expect(await query(reopened, 'SELECT v FROM kept')).toEqual([['x']]);
      } finally {
        await reopened.close();
      }
    },
    SLOW,
  );

  it(
    'awaits executeScript, so a failing script rejects (the stock PGlite adapter drops the error)',
    async () => {
      const db = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
      try {
        const adapter = await db.adapter.connect();
        await adapter.executeScript('CREATE TABLE s (id int); INSERT INTO s VALUES (1);');
        await expect(adapter.executeScript('INSERT INTO nowhere VALUES (1)')).rejects.toThrow(/nowhere/);
        expect(await query(db, 'SELECT id FROM s')).toEqual([[1]]);
      } finally {
        await db.close();
      }
    },
    SLOW,
  );
});
