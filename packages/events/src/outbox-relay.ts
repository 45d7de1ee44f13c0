import type { Logger } from '@commerce/platform';
import { startProducerSpan } from '@commerce/platform/tracing';
import type { EventEnvelope } from './envelope.ts';
import type { EventPublisher, OutgoingMessage } from './bus.ts';
import { backoffDelay, errorMessage, sleep, type BackoffSettings } from './backoff.ts';
import { readEvent } from './contracts/index.ts';

/** Raw SQL, as every generated Prisma client (and its transaction client) offers it. */
export interface RawSql {
  $queryRawUnsafe<T = unknown>(query: string, ...values: any[]): PromiseLike<T>; // eslint-disable-line @typescript-eslint/no-explicit-any
  $executeRawUnsafe(query: string, ...values: any[]): PromiseLike<number>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * The slice of a Prisma client the relay needs. Structural, so any subgraph's generated client fits
 * without this package importing one.
 */
export interface OutboxDatabase extends RawSql {
  $transaction<R>(fn: (tx: RawSql) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

export interface OutboxRelayOptions {
  publisher: EventPublisher;
  logger?: Logger;
  /** Rows claimed per round (default 100). */
  batchSize?: number;
  /**
   * How often an idle relay looks for rows nobody announced with `notify()` (default 500 ms). A look is one
   * statement; a publishing round (a transaction) follows only when it finds some.
   */
  pollIntervalMs?: number;
  /** Backoff after a failed round (broker down): default 200 ms doubling to 10 s, with jitter. */
  backoff?: BackoffSettings;
  /**
   * Longest one publish may take (default 20 s). The claimed rows stay locked meanwhile; a publish
   * that takes longer counts as failed (the rows are sent again later: at least once).
   */
  publishTimeoutMs?: number;
  /** Checks an event before it is published (default: the shared event contracts). */
  validate?: (envelope: EventEnvelope) => void;
  /** Published rows older than this are deleted (default 7 days; 0 keeps them). */
  retainPublishedMs?: number;
  /** The producing service, named on the relay's producer spans (default `outbox-relay`). */
  service?: string;
  onPublished?: (count: number) => void;
  onPublishFailed?: (count: number, error: string) => void;
}

export interface OutboxBacklog {
  /** Rows not yet published. */
  size: number;
  /** Age of the oldest of them in seconds (0 when there is none). */
  oldestAgeSeconds: number;
}

export interface RelayRound {
  /** Rows this round locked. */
  claimed: number;
  published: number;
  /** Rows whose publish failed or that are invalid (they stay in the outbox with attempts and last_error). */
  failed: number;
  /** Rows held back because an earlier row of their aggregate is unpublished elsewhere or failed. */
  held: number;
}

interface ClaimedRow {
  sequence: string;
  id: string;
  topic: string;
  aggregateId: string;
  type: string;
  envelope: unknown;
  attempts: number;
  /** An earlier unpublished row of the same aggregate is not in this round (held elsewhere, or failed). */
  behindForeign: boolean;
}

const HOUR = 3_600_000;

/**
 * Publishes a subgraph's transactional outbox (`outbox_events`).
 *
 * Each round, in one transaction: claim up to `batchSize` unpublished rows in sequence order with
 * `FOR UPDATE SKIP LOCKED` (several relay instances never take the same row), hold back rows whose
 * aggregate has an earlier unpublished row this round did not claim (another instance has it, so
 * per-aggregate order is kept), check each event against its contract, publish through the
 * EventPublisher, and mark the rows published only after it resolved (the broker acknowledged them).
 * When publishing fails (broker down) the rows get `attempts + 1` and `last_error` and wait: the
 * relay backs off and tries again, in order, until they go. Invalid events are never published; they
 * wait with their error (and keep later events of the same aggregate waiting) until fixed by hand.
 */
export class OutboxRelay {
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly stopSignal = new AbortController();
  private wake: (() => void) | undefined;
  private notified = false;
  private failures = 0;
  private lastPrune = 0;
  private readonly settings: Required<Omit<OutboxRelayOptions, 'logger' | 'service' | 'onPublished' | 'onPublishFailed'>>;

  constructor(
    private readonly db: OutboxDatabase,
    private readonly options: OutboxRelayOptions,
  ) {
    this.settings = {
      publisher: options.publisher,
      batchSize: options.batchSize ?? 100,
      pollIntervalMs: options.pollIntervalMs ?? 500,
      backoff: options.backoff ?? { baseDelayMs: 200, maxDelayMs: 10_000 },
      publishTimeoutMs: options.publishTimeoutMs ?? 20_000,
      validate: options.validate ?? ((envelope) => void readEvent(envelope)),
      retainPublishedMs: options.retainPublishedMs ?? 7 * 24 * HOUR,
    };
  }

  start(): this {
    if (!this.running && !this.stopping) this.running = this.loop();
    return this;
  }

  /** A transaction with outbox rows just committed: look now instead of at the next poll. */
  notify(): void {
    this.notified = true;
    if (this.failures === 0) this.wake?.();
  }

  /** Finishes the round in progress (its publish included), then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    this.wake?.();
    await this.running;
  }

  /** Publishes rounds until nothing publishable is left (tests, scripts); returns how many were published. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const round = await this.publishRound();
      total += round.published;
      if (round.published === 0 || round.claimed < this.settings.batchSize) return total;
    }
  }

  async backlog(): Promise<OutboxBacklog> {
    const rows = await this.db.$queryRawUnsafe<{ size: number; age: number | null }[]>(
      `SELECT count(*)::int AS size, EXTRACT(EPOCH FROM (now() - min(created_at)))::float8 AS age
         FROM outbox_events WHERE published_at IS NULL`,
    );
    const row = rows[0];
    return { size: Number(row?.size ?? 0), oldestAgeSeconds: Math.max(0, Number(row?.age ?? 0)) };
  }

  /** One round: claim, publish, mark (see the class comment). */
  async publishRound(): Promise<RelayRound> {
    const { batchSize, publishTimeoutMs } = this.settings;
    return this.db.$transaction(
      async (tx) => {
        // One statement claims the rows and, per row, finds an earlier unpublished row of its aggregate
        // that this round did not claim (another relay holds it, or it failed): such a row must wait.
        const claimed = await tx.$queryRawUnsafe<ClaimedRow[]>(
          `WITH claimed AS (
             SELECT sequence, id, topic, aggregate_id, type, envelope, attempts
               FROM outbox_events
              WHERE published_at IS NULL
              ORDER BY sequence
              LIMIT $1
                FOR UPDATE SKIP LOCKED
           )
           SELECT c.sequence::text AS sequence, c.id::text AS id, c.topic, c.aggregate_id AS "aggregateId", c.type,
                  c.envelope, c.attempts,
                  EXISTS (SELECT 1 FROM outbox_events o
                           WHERE o.published_at IS NULL AND o.aggregate_id = c.aggregate_id AND o.sequence < c.sequence
                             AND o.sequence NOT IN (SELECT sequence FROM claimed)) AS "behindForeign"
             FROM claimed c
            ORDER BY c.sequence -- the column, not the text alias (which would sort '10' before '9')`,
          batchSize,
        );
        if (claimed.length === 0) return { claimed: 0, published: 0, failed: 0, held: 0 };

        const blocked = new Set<string>();
        const ready: { row: ClaimedRow; envelope: EventEnvelope }[] = [];
        const invalid: { row: ClaimedRow; error: string }[] = [];
        let held = 0;
        for (const row of claimed) {
          if (blocked.has(row.aggregateId) || row.behindForeign) {
            held += 1;
            continue;
          }
          const envelope = (typeof row.envelope === 'string' ? JSON.parse(row.envelope) : row.envelope) as EventEnvelope;
          try {
            this.settings.validate(envelope);
            ready.push({ row, envelope });
          } catch (error) {
            invalid.push({ row, error: `invalid event: ${errorMessage(error)}` });
            blocked.add(row.aggregateId); // later events of this aggregate must not overtake it
          }
        }

        for (const { row, error } of invalid) await this.markFailed(tx, [row], error);
        // Logged on the 1st, 2nd, 4th, 8th… attempt: loud enough to be seen, not one line per poll.
        const newlyInvalid = invalid.filter(({ row }) => isPowerOfTwo(Number(row.attempts) + 1));
        if (newlyInvalid.length > 0) {
          this.options.logger?.error(
            {
              events: newlyInvalid.map(({ row, error }) => ({
                id: row.id,
                type: row.type,
                attempts: Number(row.attempts) + 1,
                error,
              })),
            },
            'outbox holds invalid events; they are not published',
          );
        }
        if (ready.length === 0) return { claimed: claimed.length, published: 0, failed: invalid.length, held };

        // One PRODUCER span per event, child of the span that wrote it; the event travels on with the
        // producer span's traceparent, so its consumers continue the same trace (docs/operations.md#tracing).
        const spans = ready.map(({ row, envelope }) =>
          startProducerSpan(this.options.service ?? 'outbox-relay', `send ${row.topic}`, envelope.traceparent, {
            'messaging.operation.type': 'send',
            'messaging.destination.name': row.topic,
            'messaging.message.id': envelope.id,
            'messaging.kafka.message.key': row.aggregateId,
            'event.type': envelope.type,
          }),
        );
        const messages: OutgoingMessage[] = ready.map(({ row, envelope }, index) => {
          const traceparent = spans[index]!.traceparent;
          return {
            topic: row.topic,
            key: row.aggregateId,
            envelope: traceparent === envelope.traceparent ? envelope : { ...envelope, traceparent },
          };
        });
        try {
          await withTimeout(this.settings.publisher.publish(messages), publishTimeoutMs, 'publish timed out');
          for (const span of spans) span.end();
        } catch (error) {
          for (const span of spans) span.end(error);
          const reason = errorMessage(error);
          await this.markFailed(
            tx,
            ready.map(({ row }) => row),
            reason,
          );
          this.options.onPublishFailed?.(ready.length, reason);
          return { claimed: claimed.length, published: 0, failed: ready.length + invalid.length, held };
        }
        await tx.$executeRawUnsafe(
          `UPDATE outbox_events SET published_at = now(), attempts = attempts + 1, last_error = NULL
            WHERE sequence IN (${placeholders(ready.length, 1, '::bigint')})`,
          ...ready.map(({ row }) => row.sequence),
        );
        this.options.onPublished?.(ready.length);
        return { claimed: claimed.length, published: ready.length, failed: invalid.length, held };
      },
      // The transaction spans the publish: allow for it, so a slow broker ends as a failed publish, not a lost lock.
      { maxWait: 10_000, timeout: publishTimeoutMs + 10_000 },
    );
  }

  /** Deletes published rows past the retention period. */
  async prunePublished(): Promise<number> {
    if (this.settings.retainPublishedMs <= 0) return 0;
    return this.db.$executeRawUnsafe(
      `DELETE FROM outbox_events WHERE published_at IS NOT NULL AND published_at < now() - ($1::int * interval '1 millisecond')`,
      Math.min(this.settings.retainPublishedMs, 2_000_000_000),
    );
  }

  private async markFailed(tx: RawSql, rows: ClaimedRow[], error: string): Promise<void> {
    await tx.$executeRawUnsafe(
      `UPDATE outbox_events SET attempts = attempts + 1, last_error = $1 WHERE sequence IN (${placeholders(rows.length, 2, '::bigint')})`,
      error.slice(0, 1000),
      ...rows.map((row) => row.sequence),
    );
  }

  private async loop(): Promise<void> {
    const { logger } = this.options;
    while (!this.stopping) {
      this.notified = false;
      let round: RelayRound | undefined;
      try {
        round = await this.publishRound();
      } catch (error) {
        // The database itself failed (or the transaction timed out): the rows are unchanged; try again later.
        logger?.warn({ err: errorMessage(error) }, 'outbox relay round failed');
      }
      if (this.stopping) break;
      const failed = !round || (round.failed > 0 && round.published === 0);
      if (failed) {
        this.failures += 1;
        const delay = backoffDelay(this.failures, this.settings.backoff);
        if (isPowerOfTwo(this.failures)) {
          logger?.warn({ failures: this.failures, retryInMs: delay }, 'outbox events not published; retrying');
        }
        await sleep(delay, this.stopSignal.signal);
        continue;
      }
      if (this.failures > 0) logger?.info({ afterFailures: this.failures }, 'outbox relay publishing again');
      this.failures = 0;
      if (round!.claimed === this.settings.batchSize && round!.published > 0) continue; // more are waiting
      await this.pruneNow();
      // Idle until notified, or until a poll finds rows nobody announced (another instance's, a missed
      // notify): a poll is one statement, and a round with its transaction only runs when rows wait.
      while (!this.notified && !this.stopping) {
        await this.idle(this.settings.pollIntervalMs);
        if (this.notified || this.stopping || (await this.hasUnpublished())) break;
      }
    }
  }

  /** True when an unpublished row exists (or the database could not say: the round will find out and log). */
  private async hasUnpublished(): Promise<boolean> {
    try {
      const rows = await this.db.$queryRawUnsafe<{ pending: boolean }[]>(
        'SELECT EXISTS (SELECT 1 FROM outbox_events WHERE published_at IS NULL) AS pending',
      );
      return rows[0]?.pending !== false;
    } catch {
      return true;
    }
  }

  private async pruneNow(): Promise<void> {
    if (Date.now() - this.lastPrune < HOUR) return;
    this.lastPrune = Date.now();
    try {
      await this.prunePublished();
    } catch (error) {
      this.options.logger?.warn({ err: errorMessage(error) }, 'pruning published outbox rows failed');
    }
  }

  /** Waits for the poll interval, `notify()` or `stop()`, whichever comes first. */
  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/** `$from, $from+1, …` with an optional cast (parameters travel as text; casts keep every driver adapter happy). */
function placeholders(count: number, from = 1, cast = ''): string {
  return Array.from({ length: count }, (_, i) => `$${from + i}${cast}`).join(', ');
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
