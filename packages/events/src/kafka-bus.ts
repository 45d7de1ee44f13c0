import {
  Kafka,
  logLevel as KafkaLogLevel,
  Partitioners,
  type Consumer,
  type EachBatchPayload,
  type EachMessagePayload,
  type IHeaders,
  type logCreator as KafkaLogCreator,
  type Producer,
} from 'kafkajs';
import { setMaxListeners } from 'node:events';
import type { Logger } from '@commerce/platform';
import type { EventEnvelope } from './envelope.ts';
import { SharedKafkaAdmin } from './kafka-admin.ts';
import {
  deadLetterTopic,
  DLQ_HEADERS,
  handleInConsumerSpan,
  isOutage,
  isRetryable,
  passesOver,
  type DeadLetter,
  type EventBus,
  type OutgoingMessage,
  type Subscription,
  type SubscriptionOptions,
} from './bus.ts';
import { backoffDelay, errorMessage, sleep, type BackoffSettings } from './backoff.ts';
import { decodeEvent } from './contracts/index.ts';
import { fixKafkajsIdleLoop } from './kafkajs-idle-loop-fix.ts';
import { StaleMemberLeaver } from './kafka-stale-member.ts';

// Before any client exists: kafkajs' idle request-queue loop (see the module).
fixKafkajsIdleLoop();

export interface KafkaEventBusOptions {
  brokers: string[];
  clientId: string;
  logger?: Logger;
  /** Partitions of the topics this bus creates (default 3). */
  partitions?: number;
  /** Replication factor of the topics this bus creates (default -1: the broker's default). */
  replicationFactor?: number;
  /** Handler attempts before a message is parked on the group's dead-letter topic (default 5). */
  maxAttempts?: number;
  /** Backoff between handler attempts (default 200 ms doubling to 5 s, with jitter). */
  backoff?: BackoffSettings;
  /**
   * Consumer session timeout: how soon a dead consumer's partitions move to another (default 30 s). A
   * crashed-and-restarted consumer does not wait for it (its old member is removed, see StaleMemberLeaver);
   * only a process that died does, so it stays generous for handlers that block for a while.
   */
  sessionTimeoutMs?: number;
  /**
   * How often a consumer heartbeats (default 1 s): live members learn of a rebalance (a member joined or
   * left) from their next heartbeat, so this bounds how long a rebalance waits for them.
   */
  heartbeatIntervalMs?: number;
  /** Partitions of one subscription handled in parallel; order is kept within a partition (default 3). */
  partitionsConsumedConcurrently?: number;
  /**
   * Keys (aggregates) of one fetched batch handled in parallel; one key's messages always run one after
   * the other, in offset order (default 8).
   */
  keyConcurrency?: number;
  /**
   * Longest the broker holds a fetch while nothing new arrives (default 500 ms). Messages are answered at
   * once whatever it is; lower means more idle fetches (CPU on both sides), higher means slower stops.
   */
  fetchMaxWaitMs?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /**
   * Retries of one produce request before `publish` fails (default 5, about 3 s). Kept finite on
   * purpose: the outbox relay then records the failure and retries with a fresh producer.
   */
  producerRetries?: number;
  /** Reads a message body; throws for poison messages. Default: the shared event contracts (with upcasting). */
  decode?: (value: Buffer | null) => EventEnvelope;
  onDeadLetter?: (letter: DeadLetter) => void;
  /** Longest a graceful stop waits for in-flight handlers before disconnecting anyway (default 10 s). */
  stopTimeoutMs?: number;
}

const DEFAULT_BACKOFF: BackoffSettings = { baseDelayMs: 200, maxDelayMs: 5000 };
const DEFAULT_SESSION_MS = 30_000;
const DEFAULT_HEARTBEAT_MS = 1000;

/** A broker answered with a Kafka error code (kafkajs' protocol errors carry its `type`), however wrapped. */
function brokerAnswered(error: unknown): boolean {
  for (let cause = error as { type?: unknown; cause?: unknown } | undefined; cause; cause = cause.cause as typeof cause) {
    if (typeof cause.type === 'string') return true;
  }
  return false;
}

/**
 * The EventBus on Apache Kafka (kafkajs).
 *
 * Publishing: one idempotent producer (acks from all in-sync replicas, one request in flight), the
 * aggregate id as message key, `type`/`event-id`/`traceparent` headers; `publish` resolves only after
 * the broker acknowledged every message. A failed send discards the producer, so a retry starts a
 * fresh idempotent session instead of reusing sequence numbers whose outcome is unknown.
 *
 * Consuming: one consumer group per subscribing service, starting from the earliest offset when the
 * group is new. Every message is decoded against the event contracts; unreadable ones go straight to
 * `<group>.dlq`. A failing handler is retried with exponential backoff and jitter (heartbeating while it
 * waits), then the message is parked on the dead-letter topic with the error in its headers, so a
 * partition is never blocked for good and nothing is dropped. Within a fetched batch one key's messages
 * run one after the other and different keys side by side (`keyConcurrency`). Offsets are committed by
 * hand, once per batch, only past messages whose handler finished (or that were parked): a consumer that
 * dies between its database commit and the offset commit gets the message again, and the inbox absorbs it.
 *
 * Topics are never auto-created: `ensureTopics` creates them through the admin client (at start-up,
 * and before the first publish to or subscription on a topic).
 */
export class KafkaEventBus implements EventBus {
  private readonly kafka: Kafka;
  private producer: Promise<Producer> | undefined;
  private readonly admin: SharedKafkaAdmin;
  /** Removes the members crashed consumers left behind (see StaleMemberLeaver). */
  readonly leaver: StaleMemberLeaver;
  private readonly knownTopics = new Set<string>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closed = false;

  constructor(readonly options: KafkaEventBusOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
      logLevel: KafkaLogLevel.WARN,
      logCreator: kafkaLogCreator(options.logger),
    });
    this.admin = new SharedKafkaAdmin(this.kafka);
    this.leaver = new StaleMemberLeaver({ brokers: options.brokers, clientId: `${options.clientId}-leave` });
  }

  /** Creates the topics that do not exist yet (idempotent, safe from several instances at once). */
  async ensureTopics(topics: string[]): Promise<void> {
    const missing = [...new Set(topics)].filter((topic) => !this.knownTopics.has(topic));
    if (missing.length === 0) return;
    const admin = await this.admin.connected();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: this.options.partitions ?? 3,
          replicationFactor: this.options.replicationFactor ?? -1,
        })),
      });
    } catch (error) {
      // Another instance may have created some of them between our metadata read and the request.
      const errors = (error as { errors?: { type?: string }[] }).errors;
      if (!errors?.every((e) => e.type === 'TOPIC_ALREADY_EXISTS')) {
        this.admin.drop();
        throw error;
      }
    }
    for (const topic of missing) this.knownTopics.add(topic);
  }

  async publish(messages: OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new Error('event bus is closed');
    if (messages.length === 0) return;
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const message of messages) {
      const list = byTopic.get(message.topic) ?? [];
      list.push(message);
      byTopic.set(message.topic, list);
    }
    await this.ensureTopics([...byTopic.keys()]);
    await this.send((producer) =>
      producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, list]) => ({
          topic,
          messages: list.map(({ key, envelope }) => ({ key, value: JSON.stringify(envelope), headers: eventHeaders(envelope) })),
        })),
      }),
    );
  }

  async subscribe(options: SubscriptionOptions): Promise<Subscription> {
    if (this.closed) throw new Error('event bus is closed');
    await this.ensureTopics([...options.topics, deadLetterTopic(options.groupId)]);
    const subscription = new KafkaSubscription(this, this.kafka, options);
    this.subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      this.subscriptions.delete(subscription);
      await subscription.stop().catch(() => {});
      throw error;
    }
    return {
      stop: async () => {
        this.subscriptions.delete(subscription);
        await subscription.stop();
      },
    };
  }

  /** Graceful: every subscription finishes and commits its in-flight message, then the clients disconnect. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.subscriptions.clear();
    const producer = this.producer;
    this.producer = undefined;
    await Promise.all([producer?.then((p) => p.disconnect()).catch(() => {}), this.admin.close()]);
  }

  /** Sends with the shared producer; a failure discards it (see the class comment). */
  async send(action: (producer: Producer) => Promise<unknown>): Promise<void> {
    const current = this.connectedProducer();
    const producer = await current;
    try {
      await action(producer);
    } catch (error) {
      if (this.producer === current) this.producer = undefined;
      await producer.disconnect().catch(() => {});
      throw error;
    }
  }

  private connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: this.options.producerRetries ?? 5, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      const connecting = producer.connect().then(() => producer);
      this.producer = connecting;
      connecting.catch(() => {
        if (this.producer === connecting) this.producer = undefined;
        producer.disconnect().catch(() => {});
      });
    }
    return this.producer;
  }
}

function eventHeaders(envelope: EventEnvelope): IHeaders {
  const headers: IHeaders = {
    type: envelope.type,
    version: String(envelope.version),
    'event-id': envelope.id,
    'correlation-id': envelope.correlationId,
    'content-type': 'application/json',
  };
  if (envelope.traceparent) headers.traceparent = envelope.traceparent;
  return headers;
}

/** One consumer group's consumer, with retries, dead-lettering and manual commits. */
class KafkaSubscription {
  private consumer: Consumer | undefined;
  private stopping = false;
  private readonly abort = abortController();
  private inFlight = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly logger: Logger | undefined;
  /** The group member id of the running consumer (kafkajs picks a new one whenever it rejoins from scratch). */
  private memberId: string | undefined;

  constructor(
    private readonly bus: KafkaEventBus,
    private readonly kafka: Kafka,
    private readonly options: SubscriptionOptions,
  ) {
    this.logger = bus.options.logger?.child({ component: 'event-consumer', groupId: options.groupId });
  }

  async start(): Promise<void> {
    const settings = this.bus.options;
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: settings.sessionTimeoutMs ?? DEFAULT_SESSION_MS,
      heartbeatInterval: settings.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS,
      // How long the broker may hold a fetch that finds nothing new: it answers as soon as a message
      // arrives, so this only sets how often an idle consumer asks (and how long a stop may wait for it).
      maxWaitTimeInMs: settings.fetchMaxWaitMs ?? 500,
      // kafkajs restarts a consumer that crashed on a retriable error (e.g. the broker went away). Retries
      // back off to 2 s at most, so a consumer tries again within 2 s of the broker coming back.
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 2000, restartOnFailure: async () => !this.stopping },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.memberId = payload.memberId;
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.logger?.error({ err: errorMessage(payload.error), restart: payload.restart }, 'event consumer crashed');
      // The restarted consumer joins as a new member: remove the old one rather than wait for its session.
      const stale = this.memberId;
      this.memberId = undefined;
      if (stale && !this.stopping) void this.leaveStaleMember(stale);
      // A non-retriable crash stops kafkajs for good: start a fresh consumer so the group keeps consuming.
      if (!payload.restart && !this.stopping) this.scheduleRestart();
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently ?? 3,
      // Offsets are resolved and committed by handleBatch: only a prefix of finished messages.
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(consumer, payload),
    });
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.abort.abort();
    clearTimeout(this.restartTimer);
    const consumer = this.consumer;
    if (!consumer) return;
    // kafkajs ignores commits once its runner is stopping, so let in-flight handlers finish and
    // commit before asking it to stop; messages not yet started are left for the next owner.
    const deadline = Date.now() + (this.bus.options.stopTimeoutMs ?? 10_000);
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(5);
    await consumer
      .disconnect()
      .catch((error: unknown) => this.logger?.warn({ err: errorMessage(error) }, 'consumer disconnect failed'));
  }

  /**
   * Removes the member a crashed consumer left in the group, as soon as the broker answers (kafkajs' own
   * LeaveGroup failed if the broker was gone). Tried every 500 ms until it is done, the subscription
   * stops, or the member must have expired anyway (the broker had been reachable for a session timeout).
   */
  private async leaveStaleMember(memberId: string): Promise<void> {
    const { groupId } = this.options;
    const sessionMs = this.bus.options.sessionTimeoutMs ?? DEFAULT_SESSION_MS;
    let lastError: unknown;
    for (let giveUpAt = Date.now() + 10 * 60_000; !this.stopping && Date.now() < giveUpAt;) {
      try {
        const outcome = await this.bus.leaver.leave(groupId, memberId);
        if (outcome === 'unsupported')
          this.logger?.warn({ memberId }, 'stale group member kept: this kafkajs has no cluster factory');
        else this.logger?.info({ memberId, outcome }, 'stale group member removed');
        return;
      } catch (error) {
        lastError = error;
        this.logger?.debug({ memberId, err: errorMessage(error) }, 'stale group member not removed yet');
        // A broker that answers but refuses (e.g. its coordinator is still loading) is back: the member
        // expires by itself within a session from now.
        if (brokerAnswered(error)) giveUpAt = Math.min(giveUpAt, Date.now() + sessionMs);
      }
      await sleep(500, this.abort.signal);
    }
    if (!this.stopping)
      this.logger?.warn(
        { memberId, err: errorMessage(lastError) },
        'stale group member not removed; it expires with its session',
      );
  }

  private scheduleRestart(): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      const old = this.consumer;
      void (async () => {
        await old?.disconnect().catch(() => {});
        try {
          await this.start();
          this.logger?.info('event consumer restarted');
        } catch (error) {
          this.logger?.error({ err: errorMessage(error) }, 'event consumer restart failed; trying again');
          this.scheduleRestart();
        }
      })();
    }, 2000);
  }

  /**
   * One fetched batch of a partition. Messages with the same key (one aggregate) are handled one after
   * the other, in offset order; different keys run side by side (up to `keyConcurrency`), so one slow
   * saga step no longer holds up every other order on its partition. The offset is committed once per
   * batch, after the longest prefix of messages that finished (handled or parked): a message stopped
   * mid-way, and everything after it, is delivered again to the partition's next owner, where the inbox
   * turns what was already applied into a no-op.
   */
  private async handleBatch(consumer: Consumer, { batch, heartbeat, resolveOffset, isStale }: EachBatchPayload): Promise<void> {
    // Not committed: after the rebalance or restart the partition's next owner gets it again.
    if (this.stopping || batch.messages.length === 0) return;
    this.inFlight += 1;
    try {
      const { topic, partition, messages } = batch;
      const finished = new Array<boolean>(messages.length).fill(false);
      const chains = new Map<string, number[]>();
      messages.forEach((message, index) => {
        const key = message.key ? message.key.toString('latin1') : '';
        const chain = chains.get(key);
        if (chain) chain.push(index);
        else chains.set(key, [index]);
      });
      const queue = [...chains.values()];
      const worker = async () => {
        for (let chain = queue.shift(); chain; chain = queue.shift()) {
          for (const index of chain) {
            if (this.stopping || isStale()) return;
            if (!(await this.handle({ topic, partition, message: messages[index]!, heartbeat }))) return;
            finished[index] = true;
            // Keeps the membership alive through a long batch (kafkajs sends one only once per interval).
            await heartbeat().catch(() => {});
          }
        }
      };
      const workers = Math.max(1, Math.min(this.bus.options.keyConcurrency ?? 8, queue.length));
      // Every worker ends before the batch does (a failed one — the dead-letter topic refused a message —
      // does not leave the others running unaccounted); the error then reaches kafkajs, which restarts.
      const outcomes = await Promise.allSettled(Array.from({ length: workers }, worker));
      const done = finished.indexOf(false) === -1 ? messages.length : finished.indexOf(false);
      if (done > 0 && !isStale()) {
        const last = messages[done - 1]!.offset;
        resolveOffset(last);
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(last) + 1n).toString() }]);
      }
      const failed = outcomes.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Handles one message (retries, then parks it); false when a stop cut it short, so it must not be committed. */
  private async handle({ topic, partition, message, heartbeat }: Omit<EachMessagePayload, 'pause'>): Promise<boolean> {
    const settings = this.bus.options;
    const offset = message.offset;
    if (passesOver(this.options, message.headers?.type?.toString())) return true;
    let envelope: EventEnvelope | undefined;
    try {
      envelope = (settings.decode ?? decodeEvent)(message.value);
    } catch (error) {
      await this.park({ topic, partition, message }, error, 0);
    }
    if (envelope) {
      const maxAttempts = this.options.maxAttempts ?? settings.maxAttempts ?? 5;
      for (let attempt = 1; ; attempt++) {
        try {
          await handleInConsumerSpan(this.options, envelope, { topic, partition, offset, attempt }, 'kafka');
          break;
        } catch (error) {
          if (this.stopping) return false;
          if ((attempt >= maxAttempts && !isOutage(error)) || !isRetryable(error)) {
            await this.park({ topic, partition, message }, error, attempt, envelope);
            break;
          }
          const delay = backoffDelay(attempt, settings.backoff ?? DEFAULT_BACKOFF);
          this.logger?.warn(
            {
              err: errorMessage(error),
              topic,
              partition,
              offset,
              eventId: envelope.id,
              type: envelope.type,
              attempt,
              retryInMs: delay,
            },
            'event handler failed; retrying',
          );
          await this.waitHeartbeating(delay, heartbeat);
          if (this.stopping) return false;
        }
      }
    }
    return true;
  }

  /** Sleeps through a retry delay without letting the group think this consumer died. */
  private async waitHeartbeating(delayMs: number, heartbeat: () => Promise<void>): Promise<void> {
    const interval = Math.max(100, Math.floor((this.bus.options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS) / 2));
    const until = Date.now() + delayMs;
    while (!this.stopping && Date.now() < until) {
      await sleep(Math.min(interval, until - Date.now()), this.abort.signal);
      await heartbeat();
    }
  }

  /** Puts the original message (key, value, headers) on `<group>.dlq` with the error; throws if the broker refuses. */
  private async park(
    { topic, partition, message }: Pick<EachMessagePayload, 'topic' | 'partition' | 'message'>,
    error: unknown,
    attempts: number,
    envelope?: EventEnvelope,
  ): Promise<void> {
    const { groupId } = this.options;
    const letter: DeadLetter = {
      groupId,
      topic,
      partition,
      offset: message.offset,
      attempts,
      error: errorMessage(error).slice(0, 2000),
      eventId: envelope?.id,
      eventType: envelope?.type,
    };
    await this.bus.send((producer) =>
      producer.send({
        topic: deadLetterTopic(groupId),
        acks: -1,
        messages: [
          {
            key: message.key,
            value: message.value,
            headers: {
              ...message.headers,
              [DLQ_HEADERS.error]: letter.error,
              [DLQ_HEADERS.errorName]: error instanceof Error ? error.name : 'Error',
              [DLQ_HEADERS.attempts]: String(attempts),
              [DLQ_HEADERS.groupId]: groupId,
              [DLQ_HEADERS.topic]: topic,
              [DLQ_HEADERS.partition]: String(partition),
              [DLQ_HEADERS.offset]: message.offset,
              [DLQ_HEADERS.failedAt]: new Date().toISOString(),
            },
          },
        ],
      }),
    );
    const { groupId: _group, ...fields } = letter; // the child logger already carries groupId
    this.logger?.error(fields, 'event parked on the dead-letter topic');
    this.bus.options.onDeadLetter?.(letter);
  }
}

/** One abort signal wakes every retry sleep of a subscription, and batches sleep in parallel: no listener cap. */
function abortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/** Routes kafkajs logs into the service's structured logger. */
function kafkaLogCreator(logger: Logger | undefined): KafkaLogCreator {
  return () =>
    ({ namespace, level, log }) => {
      if (!logger) return;
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      // Deliberate (see producerRetries): the outbox relay, not kafkajs, retries without limit.
      if (message.startsWith('Limiting retries for the idempotent producer')) return;
      // kafkajs logs every failed request of a connection as an error, though it retries them (coordinator
      // loading, broker restarting); what it finally gives up on surfaces as a thrown error or a crash.
      const transient = namespace === 'Connection' && level === KafkaLogLevel.ERROR;
      const method =
        level === KafkaLogLevel.ERROR && !transient
          ? 'error'
          : level <= KafkaLogLevel.WARN
            ? 'warn'
            : level === KafkaLogLevel.INFO
              ? 'info'
              : 'debug';
      logger[method]({ component: 'kafkajs', namespace, ...fields }, message);
    };
}
