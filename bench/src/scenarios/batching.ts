/** Scenario 5: SQL statements per request, counted in a child process (see sql-statements-worker.ts). */
import { readyLine, spawnNode } from '../processes.ts';
import { createDatabases } from '../stack/stack.ts';
import type { StatementCount } from './sql-statements-worker.ts';

export async function runBatchingScenario(options: {
  databaseUrl?: string;
}): Promise<{ database: string; counts: StatementCount[] }> {
  console.log('\nScenario 5: SQL statements per request (catalog, DataLoader batching)');
  const databases = options.databaseUrl ? await createDatabases(options.databaseUrl, 'batching', ['catalog']) : undefined;
  const ready = readyLine<{ result: { database: string; counts: StatementCount[] } }>('batching');
  const worker = spawnNode('batching', {
    args: ['bench/src/scenarios/sql-statements-worker.ts'],
    env: { CATALOG_DATABASE_URL: databases?.env.CATALOG_DATABASE_URL ?? 'pglite:memory', NODE_ENV: 'development' },
    onLine: ready.onLine,
  });
  try {
    const { result } = await ready.ready(worker);
    for (const count of result.counts)
      console.log(`  ${count.kind} of ${count.size}: ${count.perRequest.join(', ')} statements per request`);
    return result;
  } finally {
    await worker.stop();
    await databases?.drop();
  }
}
