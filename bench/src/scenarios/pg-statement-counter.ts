/**
 * Preloaded (`--import`) into each subgraph process by the checkout scenario on PostgreSQL: counts the
 * statements the process sends through `pg` (every `Client#query`, BEGIN and COMMIT included — what
 * Prisma's pg adapter sends), and keeps the running total in `<BENCH_PG_STATEMENT_DIR>/<pid>` so the
 * benchmark can report statements per order per service. Measurement only; nothing else changes.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const directory = process.env.BENCH_PG_STATEMENT_DIR;
if (directory) {
  let statements = 0;
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  (pg.Client.prototype as { query: unknown }).query = function countedQuery(this: pg.Client, ...args: unknown[]) {
    statements += 1;
    return query.apply(this, args);
  };
  const file = path.join(directory, String(process.pid));
  const write = () => writeFileSync(file, String(statements));
  write();
  setInterval(write, 100).unref();
}
