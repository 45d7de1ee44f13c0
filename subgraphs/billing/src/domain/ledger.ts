import type { Payment, PaymentStatus } from './payment.ts';
import { statusAfterRefunds } from './payment.ts';

export type LedgerEntryKind = 'CHARGE' | 'REFUND';

/** One money movement. Captures are positive, refunds negative; entries are never changed or removed. */
export interface LedgerEntry {
  id: string;
  /** 'charge:<paymentId>' or 'refund:<refundId>': at most one entry per movement. */
  entryKey: string;
  paymentId: string;
  refundId: string | null;
  kind: LedgerEntryKind;
  amountCents: number;
  currency: string;
  providerReference: string;
  createdAt: Date;
}

export type NewLedgerEntry = Omit<LedgerEntry, 'createdAt'>;

export function chargeEntry(id: string, payment: Pick<Payment, 'id' | 'amount'>, providerChargeId: string): NewLedgerEntry {
  return {
    id,
    entryKey: `charge:${payment.id}`,
    paymentId: payment.id,
    refundId: null,
    kind: 'CHARGE',
    amountCents: payment.amount.amountCents,
    currency: payment.amount.currency,
    providerReference: providerChargeId,
  };
}

export function refundEntry(
  id: string,
  refund: { id: string; paymentId: string; amount: { amountCents: number; currency: string } },
  providerRefundId: string,
): NewLedgerEntry {
  return {
    id,
    entryKey: `refund:${refund.id}`,
    paymentId: refund.paymentId,
    refundId: refund.id,
    kind: 'REFUND',
    amountCents: -refund.amount.amountCents,
    currency: refund.amount.currency,
    providerReference: providerRefundId,
  };
}

export interface Balances {
  capturedCents: number;
  refundedCents: number;
}

/** Recomputes a payment's balances from its ledger entries alone. */
export function balancesFromLedger(entries: Pick<LedgerEntry, 'kind' | 'amountCents'>[]): Balances {
  let capturedCents = 0;
  let refundedCents = 0;
  for (const entry of entries) {
    if (entry.kind === 'CHARGE') capturedCents += entry.amountCents;
    else refundedCents -= entry.amountCents;
  }
  return { capturedCents, refundedCents };
}

/** A payment as stored next to what its ledger entries add up to. */
export interface StoredAndLedgerBalances {
  paymentId: string;
  status: PaymentStatus;
  stored: Balances;
  ledger: Balances;
}

export interface LedgerMismatch extends StoredAndLedgerBalances {
  problems: string[];
}

/** The status a payment must have for the money its ledger shows (PENDING/FAILED hold no money). */
function statusMatchesBalances(status: PaymentStatus, balances: Balances): boolean {
  if (balances.capturedCents === 0) return (status === 'PENDING' || status === 'FAILED') && balances.refundedCents === 0;
  return status === statusAfterRefunds(balances.capturedCents, balances.refundedCents);
}

export function findLedgerMismatch(row: StoredAndLedgerBalances): LedgerMismatch | null {
  const problems: string[] = [];
  if (row.stored.capturedCents !== row.ledger.capturedCents) {
    problems.push(`captured ${row.stored.capturedCents} but ledger has ${row.ledger.capturedCents}`);
  }
  if (row.stored.refundedCents !== row.ledger.refundedCents) {
    problems.push(`refunded ${row.stored.refundedCents} but ledger has ${row.ledger.refundedCents}`);
  }
  if (row.ledger.refundedCents > row.ledger.capturedCents) problems.push('ledger refunds exceed its capture');
  if (!statusMatchesBalances(row.status, row.ledger)) problems.push(`status ${row.status} does not match the ledger`);
  return problems.length > 0 ? { ...row, problems } : null;
}
