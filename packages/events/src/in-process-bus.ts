import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventEnvelope } from './envelope.ts';
import {
  deadLetterTopic,
  DLQ_HEADERS,
  handleInConsumerSpan,
  isOutage,
  isRetryable,
  passesOver,
  type DeadLetter,
  type DeliveryInfo,
  type EventBus,
  type OutgoingMessage,
  type Subscription,
  type SubscriptionOptions,
} from './bus.ts';
import { backoffDelay, errorMessage, sleep, type BackoffSettings } from './backoff.ts';
import { decodeEvent } from './contracts/index.ts';

/** A stored message, as a broker would keep it: serialized, with its key and headers. */
export interface BusRecord {
  topic: string;
  key: string;
  offset: number;
  value: string;
  headers: Record<string, string>;
}

interface Group {
  options: SubscriptionOptions;
  /** Committed position (next offset to deliver) per topic; kept by group id across subscriptions, like Kafka. */
  positions: Map<string, number>;
  running: boolean;
  stopped: boolean;
  /** Aborts retry sleeps when the subscription stops. */
  abort: AbortController;
  idle: Promise<void>;
}

export interface InProcessBusOptions {
  /** Attempts before a failing message is parked (default 5); a subscription may override it. */
  maxAttempts?: number;
  /** Retry backoff (default 20 ms doubling to 1 s, with jitter). */
  backoff?: BackoffSettings;
  /** Fixed delay per attempt instead of `backoff` (tests). */
  retryDelayMs?: (attempt: number) => number;
  /** Reads a message body; throws for poison messages. Default: the shared event contracts (with upcasting). */
  decode?: (value: string) => EventEnvelope;
  onDeadLetter?: (letter: DeadLetter) => void;
}

const DEFAULT_BACKOFF: BackoffSettings = { baseDelayMs: 20, maxDelayMs: 1000 };

/**
 * The embedded-mode bus. It keeps the Kafka adapter's delivery contract: messages are stored
 * serialized in per-topic logs; each consumer group reads every topic from its own committed
 * position (kept across subscriptions of the same group); delivery is at least once and in order;
 * messages are checked against the event contracts before a handler sees them (older versions are
 * upcast); a failing handler is retried with backoff and jitter and then parked, with the error in
 * its headers, on the group's dead-letter topic so later messages keep flowing; unreadable (poison)
 * messages are parked at once. Publishing resolves once the message is stored, like a broker ack.
 */
export class InProcessEventBus implements EventBus {
  private readonly logs = new Map<string, BusRecord[]>();
  private readonly groups = new Map<string, Group>();
  private readonly committed = new Map<string, Map<string, number>>();
  /** Set while a handler runs, so a drain started from inside a handler does not wait for itself. */
  private readonly handlerContext = new AsyncLocalStorage<string>();
  private closed = false;

  constructor(private readonly options: InProcessBusOptions = {}) {}

  async publish(messages: OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new Error('event bus is closed');
    for (const message of messages) {
      const headers: Record<string, string> = { type: message.envelope.type, 'event-id': message.envelope.id };
      if (message.envelope.traceparent) headers.traceparent = message.envelope.traceparent;
      // Serialize like a broker would, so consumers never share objects with producers.
      this.append(message.topic, message.key, JSON.stringify(message.envelope), headers);
    }
    for (const group of this.groups.values()) this.wake(group);
  }

  async subscribe(options: SubscriptionOptions): Promise<Subscription> {
    if (this.closed) throw new Error('event bus is closed');
    if (this.groups.has(options.groupId)) {
      throw new Error(`consumer group ${options.groupId} already has a subscription on this bus`);
    }
    let positions = this.committed.get(options.groupId);
    if (!positions) this.committed.set(options.groupId, (positions = new Map()));
    // A group with no committed position starts at the beginning (Kafka: fromBeginning for a new group).
    for (const topic of options.topics) if (!positions.has(topic)) positions.set(topic, 0);
    const group: Group = {
      options,
      positions,
      running: false,
      stopped: false,
      abort: new AbortController(),
      idle: Promise.resolve(),
    };
    this.groups.set(options.groupId, group);
    this.wake(group);
    return { stop: () => this.stopGroup(group) };
  }

  /**
   * Waits until every subscribed group has handled (or parked) everything published so far, or until
   * the timeout. Embedded mode calls it before stopping services, so in-flight events are not lost.
   */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const self = this.handlerContext.getStore();
    while (Date.now() < deadline) {
      const busy = [...this.groups.values()].some(
        (group) => group.options.groupId !== self && (group.running || this.hasPending(group)),
      );
      if (!busy) return true;
      await sleep(5);
    }
    return false;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.groups.values()].map((group) => this.stopGroup(group)));
  }

  /** The envelopes on a topic (e.g. a dead-letter topic), for tests and operators. */
  messages(topic: string): EventEnvelope[] {
    return this.topicLog(topic).map((record) => JSON.parse(record.value) as EventEnvelope);
  }

  /** The raw records on a topic, headers included (a parked message's error is in its `dlq-*` headers). */
  records(topic: string): readonly BusRecord[] {
    return this.topicLog(topic);
  }

  /** A group's committed position on a topic (the next offset it reads), like Kafka's committed offset. */
  committedOffset(groupId: string, topic: string): number | undefined {
    return this.committed.get(groupId)?.get(topic);
  }

  private append(topic: string, key: string, value: string, headers: Record<string, string>): void {
    const log = this.topicLog(topic);
    log.push({ topic, key, offset: log.length, value, headers });
  }

  private topicLog(topic: string): BusRecord[] {
    let log = this.logs.get(topic);
    if (!log) this.logs.set(topic, (log = []));
    return log;
  }

  private async stopGroup(group: Group): Promise<void> {
    group.stopped = true;
    group.abort.abort();
    if (this.groups.get(group.options.groupId) === group) this.groups.delete(group.options.groupId);
    await group.idle;
  }

  private wake(group: Group): void {
    if (group.running || group.stopped) return;
    group.running = true;
    // Run outside the publisher's async context: a consumer is not part of whoever published.
    group.idle = new Promise<void>((resolve) => {
      this.handlerContext.exit(() =>
        setImmediate(() => {
          this.handlerContext
            .run(group.options.groupId, () => this.consume(group))
            .finally(() => {
              group.running = false;
              resolve();
              if (!group.stopped && this.hasPending(group)) this.wake(group);
            });
        }),
      );
    });
  }

  private hasPending(group: Group): boolean {
    return group.options.topics.some((topic) => (group.positions.get(topic) ?? 0) < this.topicLog(topic).length);
  }

  private async consume(group: Group): Promise<void> {
    while (!group.stopped && this.hasPending(group)) {
      for (const topic of group.options.topics) {
        const log = this.topicLog(topic);
        let position = group.positions.get(topic) ?? 0;
        while (!group.stopped && position < log.length) {
          const handled = await this.deliver(group, log[position]!);
          if (!handled) return; // stopped mid-retry: not committed, so the group gets it again
          position += 1;
          group.positions.set(topic, position); // commit only after the handler finished or the message was parked
        }
      }
    }
  }

  /** True once the message was handled or parked; false if the subscription stopped first. */
  private async deliver(group: Group, record: BusRecord): Promise<boolean> {
    if (passesOver(group.options, record.headers.type)) return true;
    let envelope: EventEnvelope;
    try {
      envelope = (this.options.decode ?? decodeEvent)(record.value);
    } catch (error) {
      this.park(group, record, error, 0);
      return true;
    }
    const maxAttempts = group.options.maxAttempts ?? this.options.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const delivery: DeliveryInfo = { topic: record.topic, partition: 0, offset: String(record.offset), attempt };
      try {
        await handleInConsumerSpan(group.options, envelope, delivery, 'in-process');
        return true;
      } catch (error) {
        if (group.stopped) return false;
        if ((attempt >= maxAttempts && !isOutage(error)) || !isRetryable(error)) {
          this.park(group, record, error, attempt, envelope);
          return true;
        }
        const delay = this.options.retryDelayMs?.(attempt) ?? backoffDelay(attempt, this.options.backoff ?? DEFAULT_BACKOFF);
        await sleep(delay, group.abort.signal);
        if (group.stopped) return false;
      }
    }
  }

  private park(group: Group, record: BusRecord, error: unknown, attempts: number, envelope?: EventEnvelope): void {
    const { groupId } = group.options;
    const letter: DeadLetter = {
      groupId,
      topic: record.topic,
      partition: 0,
      offset: String(record.offset),
      attempts,
      error: errorMessage(error),
      eventId: envelope?.id,
      eventType: envelope?.type,
    };
    this.append(deadLetterTopic(groupId), record.key, record.value, {
      ...record.headers,
      [DLQ_HEADERS.error]: letter.error,
      [DLQ_HEADERS.errorName]: error instanceof Error ? error.name : 'Error',
      [DLQ_HEADERS.attempts]: String(attempts),
      [DLQ_HEADERS.groupId]: groupId,
      [DLQ_HEADERS.topic]: record.topic,
      [DLQ_HEADERS.partition]: '0',
      [DLQ_HEADERS.offset]: String(record.offset),
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
    });
    this.options.onDeadLetter?.(letter);
  }
}
