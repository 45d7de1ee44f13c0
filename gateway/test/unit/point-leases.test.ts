/** Rate-limit points in leases: sized by the caller's rate, shared by concurrent requests, never over budget. */
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { PointLeases } from '../../src/limits/point-leases.ts';

function setup(points: number) {
  const limiter = new RateLimiterMemory({ points, duration: 3600 });
  let calls = 0;
  const consume = limiter.consume.bind(limiter);
  limiter.consume = (key, taken) => {
    calls++;
    return consume(key, taken);
  };
  let clock = 1_000_000;
  const leases = new PointLeases(limiter, { lease: true, now: () => clock });
  return {
    leases,
    limiter,
    calls: () => calls,
    advance: (ms: number) => (clock += ms),
    consumed: async (key: string) => (await limiter.get(key))?.consumedPoints ?? 0,
  };
}

describe('point leases', () => {
  it('takes a slow caller’s points one by one, so browsing never burns its budget', async () => {
    const { leases, consumed, advance } = setup(600);
    for (let i = 0; i < 30; i++) {
      expect(await leases.spend('ip:slow')).toBe(true);
      advance(1100); // about one request a second: every lease lapses before the next request
    }
    expect(await consumed('ip:slow')).toBe(30);
  });

  it('a caller at ten requests a second loses at most a few points, not a lease of 64 a second', async () => {
    const { leases, consumed, advance } = setup(6000);
    for (let i = 0; i < 100; i++) {
      expect(await leases.spend('ip:steady')).toBe(true);
      advance(100);
    }
    expect(await consumed('ip:steady')).toBeLessThanOrEqual(100 + 3);
  });

  it('gives a fast caller leases of up to 64 points: few limiter calls, few points left over', async () => {
    const { leases, consumed, calls } = setup(1_000_000);
    for (let i = 0; i < 2000; i++) expect(await leases.spend('ip:fast')).toBe(true);
    expect(calls()).toBeLessThan(60);
    expect(await consumed('ip:fast')).toBeLessThanOrEqual(2000 + 64);
  });

  it('lets concurrent requests share one lease request', async () => {
    const { leases, consumed, calls } = setup(1_000_000);
    await leases.spend('ip:burst');
    await leases.spend('ip:burst'); // grows the next lease
    const before = calls();
    const results = await Promise.all(Array.from({ length: 40 }, () => leases.spend('ip:burst')));
    expect(results.every(Boolean)).toBe(true);
    expect(calls() - before).toBeLessThanOrEqual(3);
    expect(await consumed('ip:burst')).toBeLessThanOrEqual(42 + 64);
  });

  it('never grants more than the budget, and refuses once it is spent', async () => {
    const { leases } = setup(50);
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (await leases.spend('ip:greedy')) allowed++;
    expect(allowed).toBe(50);
    expect(await leases.spend('ip:greedy')).toBe(false);
  });

  it('without leasing takes every point from the limiter', async () => {
    const limiter = new RateLimiterMemory({ points: 10, duration: 3600 });
    const leases = new PointLeases(limiter, { lease: false });
    for (let i = 0; i < 5; i++) await leases.spend('ip:plain');
    expect((await limiter.get('ip:plain'))?.consumedPoints).toBe(5);
    expect(leases.takeFromLease('ip:plain')).toBe(false);
  });

  it('refuses when the limiter fails, so the caller asks the limiter itself', async () => {
    const limiter = new RateLimiterMemory({ points: 10, duration: 3600 });
    limiter.consume = () => Promise.reject(new Error('store down'));
    const leases = new PointLeases(limiter, { lease: true });
    expect(await leases.spend('ip:any')).toBe(false);
    expect(leases.takeFromLease('ip:any')).toBe(false);
  });
});
