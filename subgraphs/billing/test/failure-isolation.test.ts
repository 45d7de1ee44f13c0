/**
 * The policies that keep one card's or one customer's failures with them, on a hand-moved clock:
 * a card that keeps failing is refused on its own; the provider-wide circuit opens only for failures
 * with standing (cards that paid before) from several customers, and probes its way closed again.
 */
import { CardBackoff, ProviderCircuit, type CircuitStateName } from '../src/adapters/provider/failure-isolation.ts';

function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('per-card back-off', () => {
  const settings = { failureThreshold: 3, backoffMs: 1_000, maxBackoffMs: 5_000, capacity: 100 };

  it('refuses a card only from its threshold of failures in a row, then for a back-off that doubles up to a cap', () => {
    const clock = manualClock();
    const cards = new CardBackoff(settings, clock.now);
    expect(cards.recordFailure('pm-1')).toBe(0);
    expect(cards.recordFailure('pm-1')).toBe(0);
    expect(cards.refusedFor('pm-1')).toBe(0);
    expect(cards.recordFailure('pm-1')).toBe(1_000);
    expect(cards.refusedFor('pm-1')).toBe(1_000);
    expect(cards.refusedFor('pm-2')).toBe(0); // other cards are not affected

    clock.advance(400);
    expect(cards.refusedFor('pm-1')).toBe(600);
    clock.advance(600);
    expect(cards.refusedFor('pm-1')).toBe(0); // one more try allowed
    expect(cards.recordFailure('pm-1')).toBe(2_000);
    clock.advance(2_000);
    expect(cards.recordFailure('pm-1')).toBe(4_000);
    clock.advance(4_000);
    expect(cards.recordFailure('pm-1')).toBe(5_000); // capped
    clock.advance(5_000);
    expect(cards.recordFailure('pm-1')).toBe(5_000);
  });

  it("forgets a card's failures on success and remembers that it paid", () => {
    const clock = manualClock();
    const cards = new CardBackoff(settings, clock.now);
    cards.recordFailure('pm-1');
    cards.recordFailure('pm-1');
    expect(cards.hasStanding('pm-1')).toBeUndefined();
    cards.recordSuccess('pm-1');
    expect(cards.hasStanding('pm-1')).toBe(true);
    expect(cards.recordFailure('pm-1')).toBe(0); // counting starts again
    expect(cards.recordFailure('pm-1')).toBe(0);
    expect(cards.recordFailure('pm-1')).toBe(1_000);
    expect(cards.hasStanding('pm-1')).toBe(true); // failing does not take standing away

    cards.markStanding('pm-2'); // found in the database
    expect(cards.hasStanding('pm-2')).toBe(true);
    expect(cards.refusedFor('pm-2')).toBe(0);
  });

  it('remembers a bounded number of cards, forgetting the least recently failed first', () => {
    const cards = new CardBackoff({ ...settings, capacity: 3 }, manualClock().now);
    for (const card of ['a', 'b', 'c']) for (let i = 0; i < 3; i++) cards.recordFailure(card);
    cards.recordFailure('a'); // a is the most recent now; b the oldest
    for (let i = 0; i < 3; i++) cards.recordFailure('d');
    expect(cards.size).toBe(3);
    expect(cards.refusedFor('b')).toBe(0);
    expect(cards.refusedFor('a')).toBeGreaterThan(0);
    expect(cards.refusedFor('c')).toBeGreaterThan(0);
    expect(cards.refusedFor('d')).toBeGreaterThan(0);

    const flooded = new CardBackoff({ ...settings, capacity: 100 }, manualClock().now);
    for (let i = 0; i < 10_000; i++) flooded.recordFailure(`card-${i}`);
    expect(flooded.size).toBe(100);
  });
});

describe('provider-wide circuit', () => {
  const settings = { failureThreshold: 5, minDistinctSources: 3, windowMs: 10_000, halfOpenAfterMs: 2_000 };

  function circuit() {
    const clock = manualClock();
    const breaker = new ProviderCircuit(settings, clock.now);
    const changes: CircuitStateName[] = [];
    breaker.onStateChange((state) => changes.push(state));
    return { clock, breaker, changes };
  }

  it('never opens for failures from one customer, however many', () => {
    const { breaker } = circuit();
    for (let i = 0; i < 1_000; i++) breaker.recordFailure('customer-flooding');
    expect(breaker.state).toBe('closed');
    expect(breaker.admit()).toBe(true);
  });

  it('opens when enough failures in a row come from enough customers', () => {
    const { breaker, changes } = circuit();
    for (let i = 0; i < 4; i++) breaker.recordFailure('customer-a');
    breaker.recordFailure('customer-b');
    expect(breaker.state).toBe('closed'); // 5 failures, but 2 customers
    breaker.recordFailure('customer-c');
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['open']);
    expect(breaker.admit()).toBe(false);
  });

  it('needs the threshold too: a few customers failing once each is not an outage yet', () => {
    const { breaker } = circuit();
    for (const customer of ['a', 'b', 'c', 'd']) breaker.recordFailure(customer);
    expect(breaker.state).toBe('closed');
    breaker.recordFailure('e');
    expect(breaker.state).toBe('open');
  });

  it('counts all calls without a customer as one source', () => {
    const { breaker } = circuit();
    for (let i = 0; i < 50; i++) breaker.recordFailure(undefined);
    expect(breaker.state).toBe('closed');
    breaker.recordFailure('a');
    breaker.recordFailure('b');
    expect(breaker.state).toBe('open'); // with two customers' failures they make three sources
  });

  it('does not count failures without standing, from however many customers (free accounts cost nothing)', () => {
    const { breaker } = circuit();
    for (let i = 0; i < 1_000; i++) breaker.recordFailure(`new-account-${i % 3}`, false);
    expect(breaker.state).toBe('closed');
    // Nor do they count together with failures that have standing.
    breaker.recordFailure('a');
    breaker.recordFailure('b');
    for (let i = 0; i < 10; i++) breaker.recordFailure(`new-account-${i}`, false);
    expect(breaker.state).toBe('closed');
    breaker.recordFailure('c');
    breaker.recordFailure('d');
    breaker.recordFailure('e');
    expect(breaker.state).toBe('open');
  });

  it('a half-open probe that fails without standing proves nothing: the next call probes', async () => {
    const { breaker, clock, changes } = circuit();
    for (const customer of ['a', 'b', 'c', 'd', 'e']) breaker.recordFailure(customer);
    clock.advance(settings.halfOpenAfterMs);
    expect(breaker.admit()).toBe(true); // a never-successful card happens to be the probe
    expect(breaker.admit()).toBe(false);
    const waiting = breaker.probed();
    breaker.recordFailure('new-account', false);
    await waiting; // waiters are woken to try again
    expect(breaker.state).toBe('half_open');
    expect(breaker.admit()).toBe(true); // the next call is the probe
    expect(breaker.admit()).toBe(false);
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  it('forgets failures on a successful answer and after the window', () => {
    const { breaker, clock } = circuit();
    for (const customer of ['a', 'b', 'c', 'd']) breaker.recordFailure(customer);
    breaker.recordSuccess();
    breaker.recordFailure('e');
    expect(breaker.state).toBe('closed');

    for (const customer of ['f', 'g', 'h']) breaker.recordFailure(customer);
    clock.advance(settings.windowMs);
    breaker.recordFailure('i'); // the four before it are too old to count
    expect(breaker.state).toBe('closed');
  });

  it('refuses calls while open, lets one probe through after the delay, and closes when it succeeds', () => {
    const { breaker, clock, changes } = circuit();
    for (const customer of ['a', 'b', 'c', 'd', 'e']) breaker.recordFailure(customer);
    clock.advance(settings.halfOpenAfterMs - 1);
    expect(breaker.admit()).toBe(false);
    clock.advance(1);
    expect(breaker.admit()).toBe(true); // the probe
    expect(breaker.state).toBe('half_open');
    expect(breaker.admit()).toBe(false); // others wait for the probe's answer
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(breaker.admit()).toBe(true);
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  it('lets calls that arrive during the probe wait for its answer', async () => {
    const { breaker, clock } = circuit();
    for (const customer of ['a', 'b', 'c', 'd', 'e']) breaker.recordFailure(customer);
    await expect(Promise.race([breaker.probed(), 'not waiting'])).resolves.toBeUndefined(); // no probe out
    clock.advance(settings.halfOpenAfterMs);
    expect(breaker.admit()).toBe(true);
    let answered = false;
    const waiting = breaker.probed().then(() => (answered = true));
    await Promise.resolve();
    expect(answered).toBe(false);
    breaker.recordSuccess();
    await waiting;
    expect(breaker.admit()).toBe(true);

    for (const customer of ['a', 'b', 'c', 'd', 'e']) breaker.recordFailure(customer);
    clock.advance(settings.halfOpenAfterMs);
    expect(breaker.admit()).toBe(true);
    const waitingForFailure = breaker.probed();
    breaker.recordFailure('f');
    await waitingForFailure;
    expect(breaker.admit()).toBe(false); // the probe failed: open again
  });

  it('opens again for another delay when the probe fails', () => {
    const { breaker, clock, changes } = circuit();
    for (const customer of ['a', 'b', 'c', 'd', 'e']) breaker.recordFailure(customer);
    clock.advance(settings.halfOpenAfterMs);
    expect(breaker.admit()).toBe(true);
    breaker.recordFailure('f');
    expect(breaker.state).toBe('open');
    expect(breaker.admit()).toBe(false);
    clock.advance(settings.halfOpenAfterMs);
    expect(breaker.admit()).toBe(true);
    expect(changes).toEqual(['open', 'half_open', 'open', 'half_open']);
  });

  it('ignores the late failures of calls admitted before it opened', () => {
    const { breaker, clock, changes } = circuit();
    for (const customer of ['a', 'b', 'c', 'd', 'e']) breaker.recordFailure(customer);
    breaker.recordFailure('late');
    clock.advance(settings.halfOpenAfterMs);
    expect(breaker.admit()).toBe(true);
    expect(changes).toEqual(['open', 'half_open']);
  });
});
