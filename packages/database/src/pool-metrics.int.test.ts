// Pool counters on real PostgreSQL: a burst of slow queries on a two-connection pool makes the rest wait.
import { openDatabase } from './connection.ts';

const url = process.env.TEST_DATABASE_URL;
if (!url && process.env.CI === 'true') throw new Error('TEST_DATABASE_URL must be set when CI=true');

(url ? describe : describe.skip)('database pool stats on PostgreSQL', () => {
  test('queries beyond the pool size wait for a connection, and none wait once the burst is over', async () => {
    const db = await openDatabase({ kind: 'postgres', url: url!, poolSize: 2 });
    const adapter = await db.adapter.connect();
    try {
      expect(db.poolStats!()).toEqual({ total: 0, idle: 0, waiting: 0 });
      const burst = Array.from({ length: 10 }, () =>
        adapter.queryRaw({ sql: 'SELECT 1 AS slept FROM pg_sleep(0.3)', args: [], argTypes: [] }),
      );
      let done = false;
      const finished = Promise.all(burst).finally(() => (done = true));
      let mostWaiting = 0;
      let mostOpen = 0;
      while (!done) {
        const stats = db.poolStats!();
        mostWaiting = Math.max(mostWaiting, stats.waiting);
        mostOpen = Math.max(mostOpen, stats.total);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await finished;
      expect(mostWaiting).toBeGreaterThan(0);
      expect(mostWaiting).toBeLessThanOrEqual(8);
      expect(mostOpen).toBe(2);
      expect(db.poolStats!()).toEqual({ total: 2, idle: 2, waiting: 0 });
    } finally {
      await adapter.dispose();
      await db.close();
    }
    expect(db.poolStats!()).toEqual({ total: 0, idle: 0, waiting: 0 });
  });
});
