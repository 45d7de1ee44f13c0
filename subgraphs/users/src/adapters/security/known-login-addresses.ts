import type { Redis } from 'ioredis';

/**
 * Addresses (whatever key the throttle is given for the client) that have logged in successfully to an
 * account recently. They are exempt from the account-wide pace, so the owner from their usual address is
 * never held back by strangers' guesses.
 */
export interface KnownLoginAddresses {
  isKnown(account: string, ip: string): Promise<boolean>;
  remember(account: string, ip: string): Promise<void>;
}

/**
 * In process, bounded: at most `maxEntries` pairs (least recently used dropped first), each forgotten after
 * `ttlSeconds`. Timestamps rather than timers: a 30-day `setTimeout` would overflow Node's 24.8-day limit.
 */
export class MemoryKnownLoginAddresses implements KnownLoginAddresses {
  /** Insertion order is recency order: a hit is moved to the end, the oldest entry is first. */
  private readonly expiresAt = new Map<string, number>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.expiresAt.size;
  }

  async isKnown(account: string, ip: string): Promise<boolean> {
    return this.isKnownNow(account, ip);
  }

  isKnownNow(account: string, ip: string): boolean {
    const key = pairKey(account, ip);
    const expiry = this.expiresAt.get(key);
    if (expiry === undefined) return false;
    this.expiresAt.delete(key);
    if (expiry <= this.now()) return false;
    this.expiresAt.set(key, expiry);
    return true;
  }

  async remember(account: string, ip: string): Promise<void> {
    this.rememberNow(account, ip);
  }

  rememberNow(account: string, ip: string): void {
    const key = pairKey(account, ip);
    this.expiresAt.delete(key);
    this.expiresAt.set(key, this.now() + this.ttlSeconds * 1000);
    while (this.expiresAt.size > this.maxEntries) {
      const oldest = this.expiresAt.keys().next().value as string;
      this.expiresAt.delete(oldest);
    }
  }
}

/**
 * Shared by every users instance through Redis (`<prefix>login:known:<account>:<address>`, expiring after
 * `ttlSeconds`). A local bounded copy answers when Redis is unreachable, like the limiters' insurance: the
 * owner's usual address keeps working on the instance that saw them log in.
 */
export class RedisKnownLoginAddresses implements KnownLoginAddresses {
  private readonly local: MemoryKnownLoginAddresses;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlSeconds: number,
    maxLocalEntries: number,
  ) {
    this.local = new MemoryKnownLoginAddresses(ttlSeconds, maxLocalEntries);
  }

  async isKnown(account: string, ip: string): Promise<boolean> {
    if (this.local.isKnownNow(account, ip)) return true;
    try {
      return (await this.redis.exists(this.key(account, ip))) === 1;
    } catch {
      return false;
    }
  }

  async remember(account: string, ip: string): Promise<void> {
    this.local.rememberNow(account, ip);
    try {
      await this.redis.set(this.key(account, ip), '1', 'EX', this.ttlSeconds);
    } catch {
      // Redis down: the local copy still exempts this address on this instance.
    }
  }

  private key(account: string, ip: string): string {
    return `${this.keyPrefix}:${pairKey(account, ip)}`;
  }
}

const pairKey = (account: string, ip: string) => `${account}:${ip}`;
