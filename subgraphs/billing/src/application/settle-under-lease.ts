import { DomainError } from '@commerce/platform';
import type { SettlementTiming } from './billing-deps.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface LeasedWork<Item> {
  isSettled(item: Item): boolean;
  /** Takes the lease on a pending item; null when another worker holds it (or it settled meanwhile). */
  claim(item: Item): Promise<Item | null>;
  reread(item: Item): Promise<Item | null>;
  /** Talks to the provider under the lease and settles the item. */
  attempt(claimed: Item): Promise<Item>;
  /** Said when another worker still holds the lease after a whole lease period. */
  stillBusy: string;
}

/**
 * Brings a pending payment or refund to a settled state with at most one worker talking to the
 * provider at a time: claim the lease and attempt, or wait for the worker that holds it to finish
 * (and take over if its lease runs out, e.g. it crashed). `claimed` says the caller already holds it.
 */
export async function settleUnderLease<Item>(
  timing: SettlementTiming,
  item: Item,
  claimed: boolean,
  work: LeasedWork<Item>,
): Promise<Item> {
  const deadline = Date.now() + timing.attemptLeaseMs + 1_000;
  let current = item;
  if (claimed) return work.attempt(current);
  for (;;) {
    if (work.isSettled(current)) return current;
    const taken = await work.claim(current);
    if (taken) return work.attempt(taken);
    if (Date.now() > deadline) throw new DomainError('SERVICE_UNAVAILABLE', work.stillBusy);
    await sleep(timing.pollIntervalMs);
    current = (await work.reread(current)) ?? current;
  }
}
