// Migrations on real PostgreSQL. TEST_DATABASE_URL is an admin connection (e.g.
// postgresql://postgres@127.0.0.1:5432/postgres) used to create and drop a throwaway database per test.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../connection.ts';
import { migrationScenarios } from './migrate.scenarios.ts';

const adminUrl = process.env.TEST_DATABASE_URL;
if (!adminUrl && process.env.CI === 'true') {
  throw new Error('TEST_DATABASE_URL must be set when CI=true (PostgreSQL integration tests cannot be skipped in CI)');
}
if (!adminUrl) console.warn('Skipping PostgreSQL migration tests: TEST_DATABASE_URL is not set');

(adminUrl ? describe : describe.skip)('migrations on PostgreSQL', () => {
  const created: string[] = [];

  async function admin<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  }

  async function freshDatabase(): Promise<Database> {
    const name = `db_${randomBytes(6).toString('hex')}`;
    await admin((client) => client.query(`CREATE DATABASE ${name}`));
    created.push(name);
    const url = new URL(adminUrl!);
    url.pathname = `/${name}`;
    return openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 2 });
  }

  afterEach(async () => {
    const names = created.splice(0);
    await admin(async (client) => {
      for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });
  });

  migrationScenarios(freshDatabase);
});
