/**
 * `npm run reconcile`: checks that orders, catalog and billing agree (see reconcile-rules.ts) and prints
 * a JSON report; exits 1 on a violation, 2 when it cannot run. Reads CATALOG_DATABASE_URL,
 * USERS_DATABASE_URL, ORDERS_DATABASE_URL and BILLING_DATABASE_URL (read-only), and optionally
 * RECONCILE_PENDING_GRACE_MS, RECONCILE_SETTLE_GRACE_MS and RECONCILE_OUTBOX_GRACE_MS.
 */
import { DEFAULT_OPTIONS, reconcile, type ReconcileOptions } from './reconcile-rules.ts';
import { databaseUrlsFromEnv, readSnapshot } from './reconcile-snapshot.ts';

function grace(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer (milliseconds)`);
  return value;
}

try {
  const options: ReconcileOptions = {
    pendingGraceMs: grace('RECONCILE_PENDING_GRACE_MS', DEFAULT_OPTIONS.pendingGraceMs),
    settleGraceMs: grace('RECONCILE_SETTLE_GRACE_MS', DEFAULT_OPTIONS.settleGraceMs),
    outboxGraceMs: grace('RECONCILE_OUTBOX_GRACE_MS', DEFAULT_OPTIONS.outboxGraceMs),
  };
  const report = reconcile(await readSnapshot(databaseUrlsFromEnv()), options);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = report.ok ? 0 : 1;
} catch (error) {
  process.stderr.write(`${JSON.stringify({ ok: false, error: (error as Error).message })}\n`);
  process.exitCode = 2;
}
