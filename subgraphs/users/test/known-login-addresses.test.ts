/** The addresses exempt from an account's login pace: remembered for a while, and bounded in memory. */
import { MemoryKnownLoginAddresses } from '../src/adapters/security/known-login-addresses.ts';

describe('known login addresses in memory', () => {
  it('forgets an address after its time to live', async () => {
    let now = 0;
    const known = new MemoryKnownLoginAddresses(30 * 24 * 3600, 10, () => now);
    await known.remember('account', '203.0.113.1');
    now += 29 * 24 * 3600 * 1000;
    expect(await known.isKnown('account', '203.0.113.1')).toBe(true);
    expect(await known.isKnown('account', '203.0.113.2')).toBe(false);
    expect(await known.isKnown('other-account', '203.0.113.1')).toBe(false);
    now += 2 * 24 * 3600 * 1000;
    expect(await known.isKnown('account', '203.0.113.1')).toBe(false);
    expect(known.size).toBe(0);
  });

  it('keeps at most its bound, dropping the least recently used', async () => {
    const known = new MemoryKnownLoginAddresses(3600, 3);
    for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) await known.remember('account', ip);
    expect(await known.isKnown('account', '198.51.100.1')).toBe(true); // now the most recent
    for (let n = 10; n < 1010; n++) await known.remember('spray', `198.51.100.${n}`);
    expect(known.size).toBe(3);
    const kept = new MemoryKnownLoginAddresses(3600, 3);
    for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) await kept.remember('account', ip);
    await kept.isKnown('account', '198.51.100.1');
    await kept.remember('account', '198.51.100.4');
    expect(await kept.isKnown('account', '198.51.100.1')).toBe(true);
    expect(await kept.isKnown('account', '198.51.100.2')).toBe(false);
  });
});
