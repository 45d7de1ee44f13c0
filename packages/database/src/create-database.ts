import pg from 'pg';

/**
 * Creates the database a postgresql:// URL names when the server does not have it yet (connecting to the
 * server's `postgres` database to do so); answers whether it created it. Full mode's `npm run start:full`
 * uses it so a fresh PostgreSQL needs no manual `CREATE DATABASE`.
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!name) return false;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount !== 0) return false;
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
    } catch (error) {
      // Another process created it in the meantime: that is what was asked for.
      if ((error as { code?: string }).code === '42P04') return false;
      throw error;
    }
    return true;
  } finally {
    await client.end();
  }
}
