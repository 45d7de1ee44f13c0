/**
 * The account-wide login pace, on the throttle itself (no HTTP, no password hashing, so timings are exact):
 * every address that never logged in to the account shares it, known addresses are exempt, and the known
 * addresses are remembered for a while and bounded in memory.
 */
import { MemoryKnownLoginAddresses } from '../src/adapters/security/known-login-addresses.ts';
import { RateLimitedLoginThrottle } from '../src/adapters/security/rate-limited-login-throttle.ts';
import type { LoginAttemptVerdict } from '../src/ports/security.ts';

const MAX_DELAY_SECONDS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let accountCounter = 0;
let ipCounter = 0;
const newIp = () => `192.0.2.${++ipCounter}`;

/** Threshold 3, pace at most 4 s, a long window: what the HTTP tests use too. */
function setUp() {
  const throttle = new RateLimitedLoginThrottle({
    maxAttemptsPerAccount: 3,
    maxAttemptsPerIp: 1000,
    windowSeconds: 600,
    maxDelaySeconds: MAX_DELAY_SECONDS,
  });
  const account = `victim-${++accountCounter}@example.com`;
  /** One guess: begin, and when let through, a wrong password. */
  const guess = async (ip: string): Promise<LoginAttemptVerdict> => {
    const verdict = await throttle.beginAttempt({ account, ip });
    if (verdict.allowed) await throttle.attemptFailed({ account, ip });
    return verdict;
  };
  return { throttle, account, guess };
}

const allowedCount = (verdicts: LoginAttemptVerdict[]) => verdicts.filter((verdict) => verdict.allowed).length;

describe('the account-wide login pace', () => {
  it('lets many fresh addresses through one at a time once the account has had many failures', async () => {
    const { guess } = setUp();
    for (let i = 0; i < 3; i++) expect((await guess(newIp())).allowed).toBe(true);
    const verdicts: LoginAttemptVerdict[] = [];
    for (let i = 0; i < 25; i++) verdicts.push(await guess(newIp()));
    console.log(`25 fresh addresses after 3 failures: ${allowedCount(verdicts)} let through`);
    expect(allowedCount(verdicts)).toBe(1);
    for (const verdict of verdicts.slice(1)) {
      expect(verdict).toMatchObject({ allowed: false, limit: 'account_pace' });
      const { retryAfterSeconds } = verdict as { retryAfterSeconds: number };
      expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(retryAfterSeconds).toBeLessThanOrEqual(MAX_DELAY_SECONDS);
    }
  });

  it('never paces an address that logged in to the account before, even after a typo there and while a stranger holds the slot', async () => {
    const { throttle, account, guess } = setUp();
    const home = newIp();
    expect((await throttle.beginAttempt({ account, ip: home })).allowed).toBe(true);
    await throttle.attemptSucceeded({ account, ip: home });
    expect((await guess(home)).allowed).toBe(true); // the owner's typo: one failure of three
    for (let i = 0; i < 2; i++) await guess(newIp());
    const stranger = newIp();
    await guess(stranger);
    await guess(stranger);
    expect(await guess(stranger)).toMatchObject({ allowed: false, limit: 'account_pace' }); // a stranger holds the slot
    expect(await throttle.beginAttempt({ account, ip: home })).toEqual({ allowed: true });
  });

  it('lets the owner in from a new address after at most the maximum delay', async () => {
    const { throttle, account, guess } = setUp();
    for (let i = 0; i < 12; i++) await guess(newIp());
    const owner = newIp();
    const refused = await throttle.beginAttempt({ account, ip: owner });
    expect(refused).toMatchObject({ allowed: false, limit: 'account_pace' });
    const { retryAfterSeconds } = refused as { retryAfterSeconds: number };
    expect(retryAfterSeconds).toBeLessThanOrEqual(MAX_DELAY_SECONDS);
    await sleep(retryAfterSeconds * 1000);
    expect(await throttle.beginAttempt({ account, ip: owner })).toEqual({ allowed: true });
  });

  it('counts refused attempts: they do not free the slot, lengthen the pace and use up the address', async () => {
    const { guess } = setUp();
    for (let i = 0; i < 3; i++) await guess(newIp());
    const hammerer = newIp();
    const first = await guess(hammerer);
    expect(first.allowed).toBe(true); // the first slot: one second
    for (let i = 0; i < 2; i++) expect(await guess(hammerer)).toMatchObject({ allowed: false, limit: 'account_pace' });
    // Its refusals gave nothing back: its budget at this account (3) is spent, for the window.
    const lockedOut = await guess(hammerer);
    expect(lockedOut).toMatchObject({ allowed: false, limit: 'account_and_address' });
    expect((lockedOut as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(500);
    // Other addresses still wait for the same slot, and their refusals count as failures too.
    for (let i = 0; i < 3; i++) expect((await guess(newIp())).allowed).toBe(false);
    await sleep(1000);
    expect((await guess(newIp())).allowed).toBe(true);
    // 3 + 1 + 5 refusals + 1: far past the threshold, so the next slot lasts the maximum delay.
    expect(await guess(newIp())).toMatchObject({ allowed: false, retryAfterSeconds: MAX_DELAY_SECONDS });
  });
});

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
