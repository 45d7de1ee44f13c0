/**
 * Keeps a gateway instance's view of the shared purge epoch current without a Redis round trip per
 * cache hit: every purge publishes the new epoch on a channel, and each instance listens on its own
 * subscriber connection (docs/benchmarks.md, optimisation 6).
 *
 * The value is trusted only while the subscription is confirmed: after (re)subscribing, the epoch is
 * read once with GET, so a purge made while the subscriber was away is never missed; while the
 * subscriber is disconnected or not yet resynced, `current()` is undefined and the hit path falls
 * back to reading the epoch in Redis for every hit. A subscription that is silently stuck is bounded
 * by a GET once a second.
 */
import type { Redis } from 'ioredis';
import { errorSummary, type Logger } from '@commerce/platform';

export interface PurgeEpochFeedOptions {
  /** The shared connection (GET); the feed opens a subscriber of its own from it. */
  redis: Redis;
  epochKey: string;
  channel: string;
  logger?: Logger;
  /** How often the epoch is read anyway, in case a message was lost on a connection that looks alive. */
  resyncEveryMs?: number;
  /** The subscriber's CLIENT SETNAME (operators see it in CLIENT LIST). */
  connectionName?: string;
}

export class PurgeEpochFeed {
  private readonly subscriber: Redis;
  /** The epoch as far as this instance knows it, or undefined while that cannot be vouched for. */
  private value: number | undefined;
  /** Highest epoch published during the current (re)subscription, before its GET answered. */
  private seenWhileSyncing = 0;
  /** Bumped on every connection change, so a resync that straddles one is discarded. */
  private generation = 0;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: PurgeEpochFeedOptions) {
    const { redis, channel } = options;
    this.subscriber = redis.duplicate({
      autoResubscribe: false,
      lazyConnect: false,
      connectionName: options.connectionName ?? 'gateway-purge-epoch-feed',
    });
    // The subscriber's own errors go to the shared connection's log; an unhandled 'error' would crash.
    this.subscriber.on('error', () => this.lost());
    this.subscriber.on('close', () => this.lost());
    this.subscriber.on('reconnecting', () => this.lost());
    this.subscriber.on('ready', () => void this.resync());
    this.subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      const epoch = Number(message);
      if (!Number.isSafeInteger(epoch)) return;
      this.seenWhileSyncing = Math.max(this.seenWhileSyncing, epoch);
      if (this.value !== undefined) this.value = Math.max(this.value, epoch);
    });
    this.timer = setInterval(() => void this.check(), options.resyncEveryMs ?? 1000);
    this.timer.unref();
  }

  /** The current epoch, or undefined while the subscription is not confirmed (read it from Redis then). */
  current(): number | undefined {
    return this.value;
  }

  /** A purge this instance made itself: known at once, before any message comes back. */
  observe(epoch: number): void {
    if (this.value !== undefined) this.value = Math.max(this.value, epoch);
  }

  /** Resolves once the feed vouches for an epoch (tests, startup). */
  async whenLive(timeoutMs = 5000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.value === undefined && Date.now() < until && !this.closed) await new Promise((r) => setTimeout(r, 10));
    return this.value !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.lost();
    this.subscriber.disconnect();
  }

  private lost(): void {
    this.generation++;
    this.value = undefined;
  }

  private async resync(): Promise<void> {
    if (this.closed) return;
    const generation = ++this.generation;
    this.value = undefined;
    this.seenWhileSyncing = 0;
    try {
      await this.subscriber.subscribe(this.options.channel);
      // Subscribed first, read second: a purge after the read arrives as a message, one before it is in the read.
      const epoch = await this.read();
      if (generation !== this.generation || this.closed) return;
      this.value = Math.max(epoch, this.seenWhileSyncing);
    } catch (error) {
      if (generation !== this.generation) return;
      this.options.logger?.warn(
        { err: errorSummary(error) },
        'purge epoch feed: could not subscribe; hits read the epoch from Redis',
      );
    }
  }

  private async check(): Promise<void> {
    if (this.value === undefined || this.closed) return;
    const generation = this.generation;
    try {
      const epoch = await this.read();
      if (generation === this.generation && this.value !== undefined) this.value = Math.max(this.value, epoch);
    } catch {
      // Redis unreachable: the subscriber will notice too; until then the value stands.
    }
  }

  private async read(): Promise<number> {
    return Number((await this.options.redis.get(this.options.epochKey)) ?? 0);
  }
}
