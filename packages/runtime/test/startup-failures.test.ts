import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { deployMigrations, openDatabase } from '@commerce/database';
import { REPO_ROOT } from '../src/services.ts';

/** Starts the catalog subgraph as its own process and collects what it printed until it exits. */
function startCatalog(env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'subgraphs/catalog/src/main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, CATALOG_PORT: '0', LOG_LEVEL: 'info', ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: output.split('\n').filter(Boolean) });
    });
  });
}

function onlyFatalLine(lines: string[]): { msg: string } {
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0]!) as { level: string; msg: string };
  expect(line.level).toBe('fatal');
  expect(lines[0]).not.toMatch(/\n\s+at /); // no stack trace
  return line;
}

describe('a service that cannot start says why in one line and exits 1', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'startup-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('names a bad environment variable', async () => {
    const { code, lines } = await startCatalog({ CATALOG_PORT: 'eighty' });
    expect(code).toBe(1);
    expect(onlyFatalLine(lines).msg).toMatch(/invalid configuration: CATALOG_PORT/);
  }, 100_000);

  it('reports an unreachable database', async () => {
    const { code, lines } = await startCatalog({ CATALOG_DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/none' });
    expect(code).toBe(1);
    expect(onlyFatalLine(lines).msg).toMatch(/catalog failed to start: .*reach database server/i);
  }, 100_000);

  it('reports a migration that fails', async () => {
    // A database with a migration history (empty) and a table the first migration wants to create:
    // applying that migration fails.
    const dir = path.join(dataDir, 'catalog');
    const database = await openDatabase({ kind: 'pglite', dataDir: dir });
    await deployMigrations(database, mkdtempSync(path.join(os.tmpdir(), 'no-migrations-')));
    await database.close();
    const db = await PGlite.create(dir);
    await db.exec('CREATE TABLE categories (unexpected int)');
    await db.close();
    const { code, lines } = await startCatalog({ CATALOG_DATABASE_URL: `pglite:${dir}` });
    expect(code).toBe(1);
    expect(onlyFatalLine(lines).msg).toMatch(/catalog failed to start: .*migration/i);
  }, 120_000);
});
