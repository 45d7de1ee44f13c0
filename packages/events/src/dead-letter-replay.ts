/**
 * Operator tooling for a consumer group's dead-letter topic (`<group>.dlq`): list what is parked, and
 * replay it onto the topics it came from once the cause is fixed (docs/operations.md,
 * EventsDeadLettered). Consumers are idempotent (inbox), so a replay that repeats a message is harmless.
 *
 * Progress is the committed offset of the group `<group>.dlq.replay` — the same one the
 * `events_dead_letter_queue_messages` gauge subtracts — so a message is replayed once, a replay that
 * stops half way resumes where it stopped, and the gauge falls as messages are replayed. Both commands
 * read only up to the end offsets seen when they start, so they always finish.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type IHeaders, type KafkaMessage } from 'kafkajs';
import { deadLetterTopic, DLQ_HEADERS } from './bus.ts';
import { deadLetterReplayGroup } from './consumer-lag.ts';

export interface DeadLetterToolOptions {
  brokers: string[];
  /** The consumer group whose dead letters these are, as Kafka knows it (topic prefix included). */
  groupId: string;
  clientId?: string;
  /** Longest a command may run before it gives up (default 60 s). */
  timeoutMs?: number;
}

export interface ParkedMessage {
  partition: number;
  offset: string;
  originalTopic: string | undefined;
  originalPartition: string | undefined;
  originalOffset: string | undefined;
  type: string | undefined;
  eventId: string | undefined;
  key: string | undefined;
  error: string | undefined;
  errorName: string | undefined;
  attempts: string | undefined;
  failedAt: string | undefined;
}

export interface ReplayOutcome {
  replayed: ParkedMessage[];
  /** Parked messages that name no original topic: left in place (and not committed past). */
  skipped: ParkedMessage[];
}

const DLQ_HEADER_NAMES = new Set<string>(Object.values(DLQ_HEADERS));

const kafkaFor = (options: DeadLetterToolOptions) =>
  new Kafka({ clientId: options.clientId ?? 'dlq-tool', brokers: options.brokers, logLevel: logLevel.NOTHING });

const header = (headers: IHeaders | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
};

function describe(partition: number, message: KafkaMessage): ParkedMessage {
  const { headers } = message;
  return {
    partition,
    offset: message.offset,
    originalTopic: header(headers, DLQ_HEADERS.topic),
    originalPartition: header(headers, DLQ_HEADERS.partition),
    originalOffset: header(headers, DLQ_HEADERS.offset),
    type: header(headers, 'type'),
    eventId: header(headers, 'event-id'),
    key: message.key?.toString(),
    error: header(headers, DLQ_HEADERS.error),
    errorName: header(headers, DLQ_HEADERS.errorName),
    attempts: header(headers, DLQ_HEADERS.attempts),
    failedAt: header(headers, DLQ_HEADERS.failedAt),
  };
}

/** The original message's own headers: the dead-letter annotations removed. */
function originalHeaders(headers: IHeaders | undefined): IHeaders {
  const kept: IHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (!DLQ_HEADER_NAMES.has(name) && value !== undefined) kept[name] = value;
  return kept;
}

/**
 * Reads `<group>.dlq` from `startGroup`'s committed offsets (the earliest when it never committed) up to
 * the end offsets of now, handing each message to `visit`; `visit` returns false to stop a partition there.
 */
async function walk(
  options: DeadLetterToolOptions,
  readerGroup: string,
  startGroup: string,
  visit: (partition: number, message: KafkaMessage, commit: () => Promise<void>) => Promise<boolean>,
): Promise<void> {
  const topic = deadLetterTopic(options.groupId);
  const kafka = kafkaFor(options);
  const admin = kafka.admin();
  await admin.connect();
  let consumer: ReturnType<Kafka['consumer']> | undefined;
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) throw new Error(`no dead-letter topic ${topic} (has the group ${options.groupId} ever run?)`);
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: startGroup, topics: [topic] });
    const startOf = new Map((committed?.partitions ?? []).map(({ partition, offset }) => [partition, offset]));
    const remaining = new Map<number, { from: bigint; end: bigint }>();
    for (const { partition, high, low } of ends) {
      const start = startOf.get(partition);
      const from = start !== undefined && start !== '-1' ? BigInt(start) : BigInt(low);
      if (from < BigInt(high)) remaining.set(partition, { from: from < BigInt(low) ? BigInt(low) : from, end: BigInt(high) });
    }
    if (remaining.size === 0) return;

    consumer = kafka.consumer({
      groupId: readerGroup,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      allowAutoTopicCreation: false,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const reader = consumer;
    let finish!: () => void;
    let fail!: (error: unknown) => void;
    const finished = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const done = (partition: number) => {
      remaining.delete(partition);
      reader.pause([{ topic, partitions: [partition] }]);
      if (remaining.size === 0) finish();
    };
    reader.on(reader.events.GROUP_JOIN, () => {
      // Start each partition exactly where this command's reading begins (the reader group may be new).
      for (const [partition, { from }] of remaining) reader.seek({ topic, partition, offset: from.toString() });
    });
    await reader.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const range = remaining.get(partition);
        if (!range) return;
        const offset = BigInt(message.offset);
        if (offset < range.from) return;
        if (offset >= range.end) return done(partition);
        const commit = () => reader.commitOffsets([{ topic, partition, offset: (offset + 1n).toString() }]);
        try {
          if (!(await visit(partition, message, commit))) return done(partition);
        } catch (error) {
          fail(error);
          throw error;
        }
        // A seek that lands after a first fetch must not hand the same message over twice.
        range.from = offset + 1n;
        if (offset + 1n >= range.end) done(partition);
      },
    });
    const timeoutMs = options.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      finished,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`gave up after ${timeoutMs} ms with partitions still unread`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer?.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/** The messages parked on `<group>.dlq` and not yet replayed, oldest first per partition. Changes nothing. */
export async function listDeadLetters(options: DeadLetterToolOptions): Promise<ParkedMessage[]> {
  const parked: ParkedMessage[] = [];
  // A throwaway reader group (deleted afterwards), starting from the replay group's progress.
  const reader = `${deadLetterTopic(options.groupId)}.inspect-${randomUUID().slice(0, 8)}`;
  try {
    await walk(options, reader, deadLetterReplayGroup(options.groupId), async (partition, message) => {
      parked.push(describe(partition, message));
      return true;
    });
  } finally {
    const kafka = kafkaFor(options);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([reader]).catch(() => undefined);
    await admin.disconnect();
  }
  return parked;
}

/**
 * Produces every parked message not yet replayed back onto its original topic (same key, value and
 * headers, without the dead-letter annotations; acknowledged by all in-sync replicas), committing the
 * replay group past each one only after the broker took it. A message naming no original topic stops
 * its partition (it stays parked and counted) and is reported as skipped.
 */
export async function replayDeadLetters(options: DeadLetterToolOptions): Promise<ReplayOutcome> {
  const outcome: ReplayOutcome = { replayed: [], skipped: [] };
  const kafka = kafkaFor(options);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const replayGroup = deadLetterReplayGroup(options.groupId);
    await walk(options, replayGroup, replayGroup, async (partition, message, commit) => {
      const parked = describe(partition, message);
      if (!parked.originalTopic) {
        outcome.skipped.push(parked);
        return false;
      }
      await producer.send({
        topic: parked.originalTopic,
        acks: -1,
        messages: [{ key: message.key, value: message.value, headers: originalHeaders(message.headers) }],
      });
      await commit();
      outcome.replayed.push(parked);
      return true;
    });
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
  return outcome;
}
