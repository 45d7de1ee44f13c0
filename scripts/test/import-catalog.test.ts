/**
 * `npm run seed -- --import-catalog`: the sample catalog in production too (it holds no accounts), with
 * nothing configured but the catalog's database; a catalog that already has products is left alone.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';

jest.setTimeout(120_000);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('imports the catalog once in production, needing only CATALOG_DATABASE_URL', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'import-catalog-'));
  try {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      CATALOG_DATABASE_URL: `pglite:${dir}`,
    };
    const run = () =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/seed.ts', '--import-catalog'], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
      });
    const first = run();
    expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: '' });
    expect(first.stdout).toMatch(/^catalog: 230 products in \d+ categories \(\d+ sold out\)$/m);
    const again = run();
    expect({ status: again.status, stdout: again.stdout.trim() }).toEqual({
      status: 0,
      stdout: 'catalog: already has products; nothing imported',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
