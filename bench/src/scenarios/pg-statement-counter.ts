/**
 * Preloaded (`--import`) into each subgraph process by the checkout scenario on PostgreSQL: counts the
 * statements the process sends through `pg` (every `Client#query`, BEGIN and COMMIT included — what
 * Prisma's pg adapter sends), and keeps the running total in `<BENCH_PG_STATEMENT_DIR>/<pid>` so the
 * benchmark can report statements per order per service. With BENCH_PG_STATEMENT_TEXTS=1 it also keeps
 * how often each statement text was sent, in `<pid>.texts.json` (finding which statements an order costs).
 * Measurement only; nothing else changes.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

/** How stale a reader may find the file; the benchmark waits a little longer before reading it. */
export const STATEMENT_FILE_INTERVAL_MS = 250;

const directory = process.env.BENCH_PG_STATEMENT_DIR;
if (directory) {
  let statements = 0;
  const texts = process.env.BENCH_PG_STATEMENT_TEXTS === '1' ? new Map<string, number>() : undefined;
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  (pg.Client.prototype as { query: unknown }).query = function countedQuery(this: pg.Client, ...args: unknown[]) {
    statements += 1;
    if (texts) {
      const first = args[0] as string | { text?: string } | undefined;
      const text = (typeof first === 'string' ? first : (first?.text ?? '?')).replace(/\s+/g, ' ').slice(0, 300);
      texts.set(text, (texts.get(text) ?? 0) + 1);
    }
    return query.apply(this, args);
  };
  const file = path.join(directory, String(process.pid));
  // Written only when it changed, at most every 250 ms: a synchronous file write costs a few milliseconds
  // on some hosts (seen: ~1% of a subgraph's CPU at 10 writes a second), which the figures should not carry.
  let written = -1;
  const write = () => {
    if (statements === written) return;
    written = statements;
    writeFileSync(file, String(statements));
    if (texts) writeFileSync(`${file}.texts.json`, JSON.stringify(Object.fromEntries(texts)));
  };
  write();
  setInterval(write, STATEMENT_FILE_INTERVAL_MS).unref();
}
