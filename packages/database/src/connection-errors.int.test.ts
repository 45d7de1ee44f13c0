// A PostgreSQL restart terminates every backend ("terminating connection due to administrator command"). No broken
// connection, idle or checked out, may end the process; the pool replaces it, and the failing query reads as an outage.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDatabaseUnavailable } from '@commerce/platform';
import { createTestDatabase, type TestDatabase } from '@commerce/testkit';

const url = process.env.TEST_DATABASE_URL;
if (!url && process.env.CI === 'true') throw new Error('TEST_DATABASE_URL must be set when CI=true');

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

(url ? describe : describe.skip)('PostgreSQL connections terminated by the server', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('connerr');
  });
  afterAll(async () => {
    await database?.drop();
  });

  // In a child process: an unhandled 'error' event ends the process, which Jest could not observe in its own worker.
  test('idle, checked-out and mid-transaction connections are terminated: the process lives on and queries recover', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, '../test/fixtures/terminate-connections.ts')], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: database.url },
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (run.status !== 0) throw new Error(`child exited ${run.status} (${run.signal}):\n${run.stdout}\n${run.stderr}`);
    const report = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      terminated: number;
      connectionErrors: number;
      failures: string[];
      recovered: unknown;
    };
    expect(report.terminated).toBeGreaterThanOrEqual(3);
    expect(report.connectionErrors).toBeGreaterThanOrEqual(1);
    expect(report.recovered).toBe(2);
    // What the requests caught in the middle saw, classified as a retryable outage (SERVICE_UNAVAILABLE).
    expect(report.failures.length).toBeGreaterThan(0);
    for (const message of report.failures) expect(isDatabaseUnavailable(new Error(message))).toBe(true);
  });
});
