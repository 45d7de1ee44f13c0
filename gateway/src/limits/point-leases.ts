/**
 * Rate-limit points taken from a shared limiter (Redis) in small leases, so a caller sending thousands
 * of requests a second costs a limiter round trip per lease rather than per request. Leased points
 * count against the caller's budget when they are taken, so the shared budget is never exceeded; the
 * price is that points left in a lease when it lapses (after at most a second) are lost.
 *
 * To keep that loss small, a lease is sized by the caller's own recent rate: about a quarter of a
 * second's worth of its requests (at least 1, at most 64, never more than an eighth of what it has
 * left). A caller browsing at a few requests a second therefore takes its points one by one and gets
 * its whole budget; only a caller fast enough to spend a lease within its lifetime gets bigger ones.
 * Concurrent requests of one caller wait for the one lease request in flight instead of each taking one.
 */
import type { RateLimiterAbstract } from '@commerce/platform';

export interface PointLeaseOptions {
  /** Lease points (shared counters); false takes every point from the limiter itself. */
  lease: boolean;
  now?: () => number;
}

interface Lease {
  size: number;
  left: number;
  takenAt: number;
  until: number;
  /** An eighth of what the caller had left after this lease (at least 1): no lease may be bigger. */
  budgetCap: number;
}

/** How long a lease's points may be spent. */
const LEASE_LIFETIME_MS = 1000;
/** A lease holds about this long's worth of the caller's requests. */
const LEASE_SPAN_MS = 250;
const MAX_LEASE = 64;
const MAX_CALLERS = 10_000;

export class PointLeases {
  private readonly leases = new Map<string, Lease>();
  private readonly leasing = new Map<string, Promise<boolean>>();
  private readonly now: () => number;

  constructor(
    private readonly limiter: RateLimiterAbstract,
    private readonly options: PointLeaseOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Whether points are leased (shared counters) rather than taken one by one. */
  get leased(): boolean {
    return this.options.lease;
  }

  /** Spends a point from the caller's open lease, if it has one; never waits. */
  takeFromLease(key: string): boolean {
    const lease = this.leases.get(key);
    if (!lease || lease.left <= 0 || lease.until <= this.now()) return false;
    lease.left--;
    return true;
  }

  /**
   * Spends a point: from the open lease, or a new lease (or single point) from the limiter. False when
   * the limiter refused (the budget is spent) or failed: the caller asks the limiter itself then (the
   * normal path answers 429 or falls back to the insurance limiter, logging a failure).
   */
  async spend(key: string): Promise<boolean> {
    if (this.takeFromLease(key)) return true;
    if (!this.options.lease) return this.acquire(key);
    for (let round = 0; round < 4; round++) {
      const pending = this.leasing.get(key);
      if (!pending) break;
      await pending;
      if (this.takeFromLease(key)) return true;
    }
    const request = this.acquire(key).finally(() => {
      if (this.leasing.get(key) === request) this.leasing.delete(key);
    });
    this.leasing.set(key, request);
    return request;
  }

  /** A new lease's size: a quarter second's worth of the caller's rate while it spent the previous one. */
  private sizeFor(key: string): number {
    if (!this.options.lease) return 1;
    const previous = this.leases.get(key);
    if (!previous) return 1;
    const used = previous.size - previous.left;
    const elapsed = Math.max(1, this.now() - previous.takenAt);
    const byRate = Math.ceil((used * LEASE_SPAN_MS) / elapsed);
    return Math.max(1, Math.min(MAX_LEASE, byRate, previous.budgetCap));
  }

  private async acquire(key: string): Promise<boolean> {
    const at = this.now();
    const size = this.sizeFor(key);
    try {
      const result = await this.limiter.consume(key, size);
      if (this.options.lease) {
        if (this.leases.size >= MAX_CALLERS && !this.leases.has(key)) this.leases.clear();
        this.leases.set(key, {
          size,
          left: size - 1,
          takenAt: at,
          until: at + Math.min(result.msBeforeNext, LEASE_LIFETIME_MS),
          budgetCap: Math.max(1, Math.floor(result.remainingPoints / 8)),
        });
      }
      return true;
    } catch {
      this.leases.delete(key);
      return false;
    }
  }
}
