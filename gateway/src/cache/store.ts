/**
 * The gateway's cache storage: a key-value cache (used by APQ and the response cache) plus an index
 * from entity tags (`Product:<id>`) to the cached responses that contain them, so an entity change can
 * purge exactly those responses. Memory in embedded mode, Redis in full mode (shared by all gateways).
 */
import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { Redis } from 'ioredis';
import type { Logger } from '@commerce/platform';
import { PurgeEpochFeed } from './purge-epoch-feed.ts';

export interface CacheStore extends KeyValueCache<string> {
  /** Records that the entry `key` (alive for `ttlSeconds`) contains these entities. */
  tag(key: string, tags: string[], ttlSeconds: number): Promise<void>;
  /** Marks the tags purged now and deletes every entry tagged with one of them; returns how many. */
  purge(tags: string[]): Promise<number>;
  /** When any of the tags was last purged (epoch ms on the store's clock; 0 if never, as far as the store remembers). */
  lastPurgedAt(tags: string[]): Promise<number>;
  /** A local timestamp on the store's clock, with how far off that may be. */
  storeTime(localMs: number): { at: number; uncertaintyMs: number };
  /**
   * A counter every purge raises before it deletes anything (in Redis for every instance). The hit path's
   * in-process copies are valid only while it has not moved (see `hit-path.ts`); memory answers at once.
   */
  purgeEpoch(): number | Promise<number>;
  /**
   * The purge epoch when known without asking anyone (memory; Redis while its pub/sub feed is
   * confirmed), or undefined — then `purgeEpoch()` must be asked.
   */
  currentPurgeEpoch(): number | undefined;
  close(): Promise<void>;
}

/** How long a purge mark is remembered: longer than any in-flight request can take. */
const PURGE_MARK_TTL_SECONDS = 3600;

export class MemoryCacheStore implements CacheStore {
  private readonly values: InMemoryLRUCache<string>;
  /** tag → (key → expiry ms) */
  private readonly tags = new Map<string, Map<string, number>>();
  private readonly purgedAt = new Map<string, number>();
  private writesSinceSweep = 0;
  private epoch = 0;

  constructor(maxBytes: number) {
    this.values = new InMemoryLRUCache<string>({ maxSize: maxBytes, sizeCalculation: InMemoryLRUCache.sizeCalculation });
  }

  get(key: string) {
    return this.values.get(key);
  }

  set(key: string, value: string, options?: KeyValueCacheSetOptions) {
    return this.values.set(key, value, options);
  }

  delete(key: string) {
    return this.values.delete(key);
  }

  async tag(key: string, tags: string[], ttlSeconds: number): Promise<void> {
    const expires = Date.now() + ttlSeconds * 1000;
    for (const tag of tags) {
      let keys = this.tags.get(tag);
      if (!keys) this.tags.set(tag, (keys = new Map()));
      keys.set(key, Math.max(keys.get(key) ?? 0, expires));
    }
    if (++this.writesSinceSweep >= 1000) this.sweep();
  }

  async purge(tags: string[]): Promise<number> {
    this.epoch++;
    try {
      return await this.purgeTags(tags);
    } finally {
      // Again once everything is deleted: a copy made from an answer read meanwhile is dropped too.
      this.epoch++;
    }
  }

  private async purgeTags(tags: string[]): Promise<number> {
    const now = Date.now();
    let deleted = 0;
    for (const tag of tags) {
      this.purgedAt.set(tag, now);
      for (const key of this.tags.get(tag)?.keys() ?? []) {
        if (await this.values.delete(key)) deleted++;
      }
      this.tags.delete(tag);
    }
    return deleted;
  }

  async lastPurgedAt(tags: string[]): Promise<number> {
    return Math.max(0, ...tags.map((tag) => this.purgedAt.get(tag) ?? 0));
  }

  storeTime(localMs: number) {
    return { at: localMs, uncertaintyMs: 0 };
  }

  purgeEpoch(): number {
    return this.epoch;
  }

  currentPurgeEpoch(): number {
    return this.epoch;
  }

  async close(): Promise<void> {
    this.values.clear();
  }

  /** Drops index entries of expired responses and old purge marks, so the index stays bounded. */
  private sweep(): void {
    this.writesSinceSweep = 0;
    const now = Date.now();
    for (const [tag, keys] of this.tags) {
      for (const [key, expires] of keys) if (expires < now) keys.delete(key);
      if (keys.size === 0) this.tags.delete(tag);
    }
    for (const [tag, at] of this.purgedAt) if (at < now - PURGE_MARK_TTL_SECONDS * 1000) this.purgedAt.delete(tag);
  }
}

/**
 * Redis layout (all under `gateway:`): `gateway:kv:<key>` values with their TTL, `gateway:tag:<tag>`
 * sets of keys (expiring with their longest-lived member), `gateway:purged:<tag>` purge marks,
 * `gateway:purge-epoch` the count of purges (read by every instance's hit path), announced on the
 * pub/sub channel `gateway:purge-epoch` so instances need not read it per hit (`purge-epoch-feed.ts`).
 */
export class RedisCacheStore implements CacheStore {
  /** Redis time minus local time, so purge marks from every gateway instance share one clock. */
  private offsetMs = 0;
  private uncertaintyMs = 1000;
  private lastSync = 0;
  private readonly feed: PurgeEpochFeed | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'gateway:',
    options: { purgeEpochFeed?: boolean; logger?: Logger } = {},
  ) {
    this.feed = options.purgeEpochFeed
      ? new PurgeEpochFeed({ redis, epochKey: this.epochKey, channel: this.epochKey, logger: options.logger })
      : undefined;
  }

  /** Measures the offset to Redis's clock (TIME); repeated every minute while in use. */
  async syncClock(): Promise<void> {
    this.lastSync = Date.now();
    try {
      const before = Date.now();
      const [seconds, micros] = await this.redis.time();
      const after = Date.now();
      this.offsetMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - (before + after) / 2;
      this.uncertaintyMs = Math.ceil((after - before) / 2) + 2;
    } catch {
      // Keep the previous estimate; purge checks stay conservative through uncertaintyMs.
    }
  }

  storeTime(localMs: number) {
    if (Date.now() - this.lastSync > 60_000) void this.syncClock();
    return { at: localMs + this.offsetMs, uncertaintyMs: this.uncertaintyMs };
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(this.valueKey(key))) ?? undefined;
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttl = options?.ttl;
    if (typeof ttl === 'number' && ttl > 0) await this.redis.set(this.valueKey(key), value, 'EX', Math.ceil(ttl));
    else await this.redis.set(this.valueKey(key), value);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.redis.del(this.valueKey(key))) > 0;
  }

  async tag(key: string, tags: string[], ttlSeconds: number): Promise<void> {
    if (tags.length === 0) return;
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const pipeline = this.redis.multi();
    for (const tag of tags) {
      const setKey = this.tagKey(tag);
      pipeline.sadd(setKey, key);
      // A new set gets the entry's TTL; an existing one only ever grows to the longest member's.
      pipeline.expire(setKey, ttl, 'NX');
      pipeline.expire(setKey, ttl, 'GT');
    }
    await pipeline.exec();
  }

  async purge(tags: string[]): Promise<number> {
    // Before anything is deleted: from here on no instance's hit path serves what it copied earlier.
    await this.raiseEpoch();
    try {
      return await this.purgeTags(tags);
    } finally {
      // Again after: a copy made meanwhile from an answer read before the deletes is dropped as well.
      await this.raiseEpoch();
    }
  }

  private async raiseEpoch(): Promise<void> {
    const epoch = await this.redis.incr(this.epochKey);
    this.feed?.observe(epoch);
    await this.redis.publish(this.epochKey, String(epoch));
  }

  private async purgeTags(tags: string[]): Promise<number> {
    let deleted = 0;
    const now = this.storeTime(Date.now()).at;
    for (const tag of tags) {
      // Mark first: a response being written concurrently sees the mark and deletes itself.
      await this.redis.set(this.purgeKey(tag), String(Math.ceil(now)), 'EX', PURGE_MARK_TTL_SECONDS);
      const keys = await this.redis.smembers(this.tagKey(tag));
      if (keys.length > 0) deleted += await this.redis.del(...keys.map((key) => this.valueKey(key)));
      await this.redis.del(this.tagKey(tag));
    }
    return deleted;
  }

  async lastPurgedAt(tags: string[]): Promise<number> {
    if (tags.length === 0) return 0;
    const marks = await this.redis.mget(...tags.map((tag) => this.purgeKey(tag)));
    return Math.max(0, ...marks.map((mark) => (mark ? Number(mark) : 0)));
  }

  async purgeEpoch(): Promise<number> {
    return Number((await this.redis.get(this.epochKey)) ?? 0);
  }

  currentPurgeEpoch(): number | undefined {
    return this.feed?.current();
  }

  async close(): Promise<void> {
    // The shared Redis connection belongs to whoever created it; the feed's subscriber is ours.
    await this.feed?.close();
  }

  private valueKey = (key: string) => `${this.prefix}kv:${key}`;
  private tagKey = (tag: string) => `${this.prefix}tag:${tag}`;
  private purgeKey = (tag: string) => `${this.prefix}purged:${tag}`;
  private get epochKey() {
    return `${this.prefix}purge-epoch`;
  }
}
