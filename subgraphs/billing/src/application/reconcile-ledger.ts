import { findLedgerMismatch, type LedgerMismatch } from '../domain/ledger.ts';
import type { BillingDeps } from './billing-deps.ts';

export interface LedgerReconciliation {
  checkedPayments: number;
  mismatches: LedgerMismatch[];
  checkedAt: Date;
}

/**
 * Recomputes every payment's balances from the append-only ledger and compares them with the stored
 * ones (and the status they imply). Any difference is logged as an error for someone to investigate;
 * nothing is "fixed" automatically, because the ledger is the record and the balances are derived.
 */
export async function reconcileLedger(
  deps: Pick<BillingDeps, 'payments' | 'logger' | 'clock'>,
  batchSize = 500,
): Promise<LedgerReconciliation> {
  const mismatches: LedgerMismatch[] = [];
  let checkedPayments = 0;
  let after: string | null = null;
  for (;;) {
    const page = await deps.payments.balancesPage(after, batchSize);
    for (const row of page) {
      const mismatch = findLedgerMismatch(row);
      if (mismatch) mismatches.push(mismatch);
    }
    checkedPayments += page.length;
    if (page.length < batchSize) break;
    after = page.at(-1)!.paymentId;
  }
  for (const mismatch of mismatches) {
    deps.logger.error(
      { paymentId: mismatch.paymentId, stored: mismatch.stored, ledger: mismatch.ledger, problems: mismatch.problems },
      'payment balance does not match the ledger',
    );
  }
  deps.logger.info({ checkedPayments, mismatches: mismatches.length }, 'ledger reconciled');
  return { checkedPayments, mismatches, checkedAt: deps.clock.now() };
}
