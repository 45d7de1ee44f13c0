// How far behind each consumer group is, and how many messages wait on its dead-letter topic, measured
// on the transport itself: Kafka's log-end and committed offsets through the admin API, or the in-process
// bus's logs and committed positions. Exposed as `events_consumer_lag_messages{group,topic,partition}`
// and `events_dead_letter_queue_messages{group}`.
import { Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import { Gauge, type Logger, type Registry } from '@commerce/platform';
import { deadLetterTopic, type EventBus, type Subscription, type SubscriptionOptions } from './bus.ts';
import type { InProcessEventBus } from './in-process-bus.ts';
import { errorMessage } from './backoff.ts';
import { SharedKafkaAdmin } from './kafka-admin.ts';

export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  /** Messages on the partition the group has not committed yet. */
  messages: number;
}

export interface DeadLetterDepth {
  group: string;
  /** Messages on `<group>.dlq` not yet read by its replay group (all of them when nobody replays). */
  messages: number;
}

export interface ConsumerLagReading {
  lag: PartitionLag[];
  deadLetters: DeadLetterDepth[];
}

/** Consumer group → the topics it reads (real names, prefix included). */
export type ConsumerGroups = ReadonlyMap<string, readonly string[]>;

export interface ConsumerLagSource {
  read(groups: ConsumerGroups): Promise<ConsumerLagReading>;
  close(): Promise<void>;
}

/**
 * The consumer group an operator's replay of `<group>.dlq` uses (e.g. `kafka-console-consumer --group
 * <group>.dlq.replay`): its committed offsets mark what was replayed already.
 */
export const deadLetterReplayGroup = (groupId: string) => `${deadLetterTopic(groupId)}.replay`;

/**
 * Messages between a consumer's position and the partition's end. Offsets are Kafka's strings: `committed`
 * is -1 when the group never committed (it starts from the earliest retained message: fromBeginning), and a
 * committed offset below the log start (retention deleted those messages) counts from the log start.
 */
export function messagesBehind(offsets: { high: string; low: string }, committed: string): number {
  const high = BigInt(offsets.high);
  const low = BigInt(offsets.low);
  let position = BigInt(committed);
  if (position < low) position = low;
  return high > position ? Number(high - position) : 0;
}

/** Reads offsets through a Kafka admin client of its own (one connection, reused across scrapes). */
export class KafkaConsumerLag implements ConsumerLagSource {
  private readonly kafka: Kafka;
  private readonly admin: SharedKafkaAdmin;

  constructor(options: { brokers: string[]; clientId: string; connectionTimeoutMs?: number; requestTimeoutMs?: number }) {
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      requestTimeout: options.requestTimeoutMs ?? 5000,
      retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 500 },
      logLevel: KafkaLogLevel.NOTHING,
    });
    this.admin = new SharedKafkaAdmin(this.kafka);
  }

  async read(groups: ConsumerGroups): Promise<ConsumerLagReading> {
    const admin = await this.admin.connected();
    try {
      const topics = new Set<string>();
      for (const [group, groupTopics] of groups) {
        for (const topic of groupTopics) topics.add(topic);
        topics.add(deadLetterTopic(group));
      }
      const ends = new Map<string, Map<number, { high: string; low: string }>>();
      await Promise.all(
        [...topics].map(async (topic) => {
          const partitions = await admin.fetchTopicOffsets(topic).catch(() => undefined); // a topic not created yet
          if (partitions) ends.set(topic, new Map(partitions.map((p) => [p.partition, { high: p.high, low: p.low }])));
        }),
      );
      const committed = async (groupId: string, groupTopics: string[]) => {
        const existing = groupTopics.filter((topic) => ends.has(topic));
        if (existing.length === 0) return [];
        return admin.fetchOffsets({ groupId, topics: existing });
      };
      const lag: PartitionLag[] = [];
      const deadLetters: DeadLetterDepth[] = [];
      await Promise.all(
        [...groups].map(async ([group, groupTopics]) => {
          for (const { topic, partitions } of await committed(group, [...groupTopics])) {
            for (const { partition, offset } of partitions) {
              const end = ends.get(topic)?.get(partition);
              if (end) lag.push({ group, topic, partition, messages: messagesBehind(end, offset) });
            }
          }
          const dlq = deadLetterTopic(group);
          const dlqEnds = ends.get(dlq);
          if (!dlqEnds) return;
          const replayed = new Map<number, string>();
          for (const { partitions } of await committed(deadLetterReplayGroup(group), [dlq]))
            for (const { partition, offset } of partitions) replayed.set(partition, offset);
          let messages = 0;
          for (const [partition, end] of dlqEnds) messages += messagesBehind(end, replayed.get(partition) ?? '-1');
          deadLetters.push({ group, messages });
        }),
      );
      return { lag, deadLetters };
    } catch (error) {
      this.admin.drop();
      throw error;
    }
  }

  close(): Promise<void> {
    return this.admin.close();
  }
}

/** The in-process bus has one partition per topic and no replay: every parked message counts. */
export function inProcessConsumerLag(bus: InProcessEventBus): ConsumerLagSource {
  return {
    read: async (groups) => {
      const lag: PartitionLag[] = [];
      const deadLetters: DeadLetterDepth[] = [];
      for (const [group, topics] of groups) {
        for (const topic of topics) {
          const end = bus.records(topic).length;
          const position = bus.committedOffset(group, topic) ?? 0;
          lag.push({ group, topic, partition: 0, messages: Math.max(0, end - position) });
        }
        deadLetters.push({ group, messages: bus.records(deadLetterTopic(group)).length });
      }
      return { lag, deadLetters };
    },
    close: async () => {},
  };
}

/**
 * Remembers which consumer groups subscribed through `bus` (and on which topics), so the service reports
 * the lag of its own groups only. A group stays reported after its subscription stops: a stopped
 * consumer is exactly when lag matters.
 */
export function trackingConsumerGroups(bus: EventBus): { bus: EventBus; groups(): Map<string, string[]> } {
  const groups = new Map<string, string[]>();
  return {
    bus: {
      publish: (messages) => bus.publish(messages),
      subscribe: async (options: SubscriptionOptions): Promise<Subscription> => {
        const subscription = await bus.subscribe(options);
        const topics = new Set([...(groups.get(options.groupId) ?? []), ...options.topics]);
        groups.set(options.groupId, [...topics]);
        return subscription;
      },
      close: () => bus.close(),
    },
    groups: () => new Map(groups),
  };
}

export interface ConsumerLagMetricsOptions {
  source: ConsumerLagSource;
  /** The groups to report, read at every measurement. */
  groups: () => ConsumerGroups;
  /** A measurement is reused by scrapes within this time (default 5 s): bounded admin traffic. */
  cacheMs?: number;
  /** A measurement taking longer is abandoned; the scrape reports the last one (default 3 s). */
  timeoutMs?: number;
  logger?: Logger;
}

/**
 * Registers the lag and dead-letter gauges. They measure on scrape (at most one measurement in flight,
 * reused for `cacheMs`); when the broker does not answer, the last measurement is reported and a warning
 * logged. Returns a function that stops measuring and closes the source.
 */
export function registerConsumerLagMetrics(registry: Registry, options: ConsumerLagMetricsOptions): () => Promise<void> {
  const cacheMs = options.cacheMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 3000;
  let last: ConsumerLagReading = { lag: [], deadLetters: [] };
  let measuredAt = 0;
  let pending: Promise<ConsumerLagReading> | undefined;
  let closed = false;
  const measure = async (): Promise<ConsumerLagReading> => {
    const groups = options.groups();
    if (groups.size === 0) return { lag: [], deadLetters: [] };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([options.source.read(groups), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  const read = (): Promise<ConsumerLagReading> => {
    if (closed || Date.now() - measuredAt < cacheMs) return Promise.resolve(last);
    pending ??= measure()
      .then((reading) => {
        last = reading;
        measuredAt = Date.now();
        return reading;
      })
      .catch((error: unknown) => {
        options.logger?.warn({ err: errorMessage(error) }, 'consumer lag measurement failed; reporting the last one');
        return last;
      })
      .finally(() => (pending = undefined));
    return pending;
  };
  new Gauge({
    name: 'events_consumer_lag_messages',
    help: "Messages a consumer group has not committed yet: the partition's latest offset minus the group's committed offset",
    labelNames: ['group', 'topic', 'partition'] as const,
    registers: [registry],
    async collect() {
      const reading = await read();
      this.reset();
      for (const { group, topic, partition, messages } of reading.lag)
        this.set({ group, topic, partition: String(partition) }, messages);
    },
  });
  new Gauge({
    name: 'events_dead_letter_queue_messages',
    help: 'Messages parked on <group>.dlq and not yet replayed',
    labelNames: ['group'] as const,
    registers: [registry],
    async collect() {
      const reading = await read();
      this.reset();
      for (const { group, messages } of reading.deadLetters) this.set({ group }, messages);
    },
  });
  return async () => {
    closed = true;
    await pending;
    await options.source.close();
  };
}
