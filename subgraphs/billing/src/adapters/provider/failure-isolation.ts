/**
 * Keeps one card's or one customer's failures with them, the way a real payment stack does: a card
 * whose charges keep failing is refused for a while on its own (CardBackoff), and the provider-wide
 * circuit opens only on evidence that the provider itself is failing (ProviderCircuit) — a customer who
 * saves a card that never answers and places order after order must not make every other customer's
 * checkout fail, and neither must one person with a handful of free accounts.
 *
 * The policy: only failures of calls with standing count toward the circuit — a charge on a card that has
 * been charged successfully before (a known-good card that stops working says more about the provider than
 * about the card), and a refund (it refunds a charge this provider captured). Failures of cards that never
 * worked, and of saving a new card (describe), count only against that card: anybody can create accounts and
 * save cards that time out, but nobody can make a card that paid before fail without the provider failing.
 * The circuit then still needs `failureThreshold` such failures in a row from `minDistinctSources` customers.
 * The trade-off: in a shop where no card has ever paid, an outage does not open the circuit (each card
 * backs off on its own instead). Plain TypeScript with an injected clock, so the policies are tested without waiting.
 */

/** Milliseconds since some epoch; Date.now in production, a hand-moved value in tests. */
export type Now = () => number;

export interface CardBackoffSettings {
  /** Failed charges in a row after which a card is refused without asking the provider. */
  failureThreshold: number;
  /** The first refusal period; it doubles with every further failure, up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Cards remembered at most (least recently used forgotten first): memory stays bounded. */
  capacity: number;
}

interface CardRecord {
  failures: number;
  refusedUntil: number;
  /** Charged successfully before (seen here or found in the database): its failures count as evidence. */
  standing: boolean;
}

/**
 * Per-card failure accounting. A success clears the card's failures and gives it standing; a failure counts; from `failureThreshold`
 * failures in a row the card is refused until its back-off ends, then one more charge is let through
 * (if that fails too, the next back-off is twice as long). Declines count here — a card that is
 * declined again and again is worth refusing quickly — even though they never count against the provider.
 */
export class CardBackoff {
  private readonly cards = new Map<string, CardRecord>();

  constructor(
    private readonly settings: CardBackoffSettings,
    private readonly now: Now = Date.now,
  ) {}

  /** How long this card is still refused (ms); 0 when it may be charged. */
  refusedFor(card: string): number {
    const record = this.cards.get(card);
    if (!record) return 0;
    return Math.max(0, record.refusedUntil - this.now());
  }

  /** Counts a failed charge; returns the back-off it starts (ms), 0 when the card may still be charged. */
  recordFailure(card: string): number {
    const record = this.cards.get(card) ?? { failures: 0, refusedUntil: 0, standing: false };
    record.failures += 1;
    let backoff = 0;
    if (record.failures >= this.settings.failureThreshold) {
      const doublings = Math.min(record.failures - this.settings.failureThreshold, 30);
      backoff = Math.min(this.settings.maxBackoffMs, this.settings.backoffMs * 2 ** doublings);
      record.refusedUntil = this.now() + backoff;
    }
    this.touch(card, record);
    return backoff;
  }

  /** The card was charged: its failures are forgotten, and it has standing from now on. */
  recordSuccess(card: string): void {
    this.touch(card, { failures: 0, refusedUntil: 0, standing: true });
  }

  /**
   * Whether the card is known to have been charged successfully: true, or undefined when not known here
   * (forgotten, or charged by another replica) — the caller then asks the database.
   */
  hasStanding(card: string): true | undefined {
    return this.cards.get(card)?.standing ? true : undefined;
  }

  /** Remembers standing found elsewhere (the database), so the next failure need not ask again. */
  markStanding(card: string): void {
    const record = this.cards.get(card);
    if (record) record.standing = true;
    else this.touch(card, { failures: 0, refusedUntil: 0, standing: true });
  }

  /** Cards remembered, with failures or standing (for tests and metrics). */
  get size(): number {
    return this.cards.size;
  }

  private touch(card: string, record: CardRecord): void {
    // A Map iterates in insertion order: re-inserting makes this card the most recently used.
    this.cards.delete(card);
    this.cards.set(card, record);
    while (this.cards.size > this.settings.capacity) {
      const oldest = this.cards.keys().next().value as string;
      this.cards.delete(oldest);
    }
  }
}

export interface ProviderCircuitSettings {
  /** Failed calls in a row (no successful answer in between, within windowMs) that may open the circuit... */
  failureThreshold: number;
  /** ...when they came from at least this many distinct customers. */
  minDistinctSources: number;
  /** Failures older than this no longer count. */
  windowMs: number;
  /** How long an open circuit refuses calls before letting one probe through (half-open). */
  halfOpenAfterMs: number;
}

export type CircuitStateName = 'closed' | 'open' | 'half_open';

/** Who a failed call belongs to (the customer); all calls without one count as one source together. */
export type FailureSource = string | undefined;

/** The one source every failure without a customer is counted under: they cannot add up to several customers. */
export const NO_CUSTOMER_SOURCE = 'no-customer';

/**
 * The provider-wide circuit. Closed: calls flow, and failures with standing (see the top of this file)
 * since the last successful answer are remembered with their customer; failures without standing are
 * not counted at all. It opens when `failureThreshold` of them, within `windowMs`, came from at least
 * `minDistinctSources` customers: that is the provider failing, not one card. Open: calls are refused
 * until `halfOpenAfterMs` passed; then one probe goes through (half-open) while the rest are still
 * refused; its success closes the circuit, its failure with standing opens it again, and its failure
 * without standing proves nothing: the next call becomes the probe.
 *
 * A successful answer — a decline is one — proves the provider works and clears the failures.
 */
export class ProviderCircuit {
  private current: CircuitStateName = 'closed';
  private openedAt = 0;
  private failures: { at: number; source: string }[] = [];
  /** Half-open: whether the probe is out (later calls wait for its answer). */
  private probing = false;
  private readonly listeners: ((state: CircuitStateName) => void)[] = [];
  private probeWaiters: (() => void)[] = [];

  constructor(
    private readonly settings: ProviderCircuitSettings,
    private readonly now: Now = Date.now,
  ) {}

  get state(): CircuitStateName {
    return this.current;
  }

  onStateChange(listener: (state: CircuitStateName) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Whether a call may go to the provider now. The first call after the open period becomes the probe
   * (the state turns half-open); the caller must then report its outcome. While the probe is out, calls
   * are not admitted: their callers may wait for its answer (`probed`) and ask again.
   */
  admit(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (this.now() - this.openedAt < this.settings.halfOpenAfterMs) return false;
      this.transition('half_open');
    } else if (this.probing) {
      return false;
    }
    this.probing = true;
    return true;
  }

  /** Resolves once the probe that is out has answered (at once when none is). */
  probed(): Promise<void> {
    if (this.current !== 'half_open' || !this.probing) return Promise.resolve();
    return new Promise((resolve) => this.probeWaiters.push(resolve));
  }

  /** The provider answered (captured, declined, refunded, described). */
  recordSuccess(): void {
    this.failures = [];
    if (this.current === 'half_open') this.transition('closed');
  }

  /**
   * The provider did not answer usefully (timeout, errors after retries). `standing`: whether the call is
   * evidence against the provider (a card that was charged before, a refund); without it the failure
   * belongs to the card and is not counted here.
   */
  recordFailure(source: FailureSource, standing = true): void {
    if (this.current === 'open') return; // a call admitted before the circuit opened
    if (this.current === 'half_open') {
      if (standing) this.open();
      else this.probeInconclusive();
      return;
    }
    if (!standing) return;
    const at = this.now();
    this.failures.push({ at, source: source ?? NO_CUSTOMER_SOURCE });
    const recent = this.failures.filter((failure) => at - failure.at < this.settings.windowMs);
    // Only the newest ones can matter: memory stays bounded under a flood.
    this.failures = recent.slice(-Math.max(this.settings.failureThreshold, this.settings.minDistinctSources) * 4);
    const sources = new Set(this.failures.map((failure) => failure.source));
    if (this.failures.length >= this.settings.failureThreshold && sources.size >= this.settings.minDistinctSources) {
      this.open();
    }
  }

  /** The probe failed on a card that never worked: that says nothing about the provider, so the next call probes. */
  private probeInconclusive(): void {
    this.probing = false;
    this.wakeProbeWaiters();
  }

  private open(): void {
    this.openedAt = this.now();
    this.failures = [];
    this.transition('open');
  }

  private transition(state: CircuitStateName): void {
    if (this.current === state) return;
    const probeAnswered = this.current === 'half_open';
    this.current = state;
    this.probing = false;
    for (const listener of this.listeners) listener(state);
    if (probeAnswered) this.wakeProbeWaiters();
  }

  private wakeProbeWaiters(): void {
    const waiters = this.probeWaiters;
    this.probeWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
