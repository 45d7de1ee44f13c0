import { envelopeSchema, type EventEnvelope } from './envelope.ts';
import {
  deadLetterTopic,
  type DeliveryInfo,
  type EventBus,
  type OutgoingMessage,
  type Subscription,
  type SubscriptionOptions,
} from './bus.ts';

interface StoredMessage {
  topic: string;
  key: string;
  offset: number;
  value: string;
}

interface Group {
  options: SubscriptionOptions;
  /** Next offset to deliver, per topic. */
  positions: Map<string, number>;
  running: boolean;
  stopped: boolean;
}

export interface InProcessBusOptions {
  retryDelayMs?: (attempt: number) => number;
  onDeadLetter?: (info: { groupId: string; topic: string; error: string; envelopeId?: string }) => void;
}

/**
 * The embedded-mode bus. It keeps the Kafka adapter's delivery contract: messages are stored
 * serialized in per-topic logs, each consumer group reads every topic from its own position,
 * delivery is at least once and in order, failed handlers are retried with backoff and then
 * parked on the group's dead-letter topic so later messages keep flowing.
 */
export class InProcessEventBus implements EventBus {
  private readonly logs = new Map<string, StoredMessage[]>();
  private readonly groups = new Set<Group>();
  private closed = false;

  constructor(private readonly options: InProcessBusOptions = {}) {}

  async publish(messages: OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new Error('event bus is closed');
    for (const message of messages) {
      const log = this.topicLog(message.topic);
      // Serialize like a broker would, so consumers never share objects with producers.
      log.push({ topic: message.topic, key: message.key, offset: log.length, value: JSON.stringify(message.envelope) });
    }
    for (const group of this.groups) this.wake(group);
  }

  async subscribe(options: SubscriptionOptions): Promise<Subscription> {
    const group: Group = { options, positions: new Map(), running: false, stopped: false };
    // New groups start at the beginning, like a Kafka group with no committed offset (earliest).
    for (const topic of options.topics) group.positions.set(topic, 0);
    this.groups.add(group);
    this.wake(group);
    return {
      stop: async () => {
        group.stopped = true;
        this.groups.delete(group);
        while (group.running) await new Promise((resolve) => setTimeout(resolve, 5));
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.groups].map(async (group) => {
      group.stopped = true;
      while (group.running) await new Promise((resolve) => setTimeout(resolve, 5));
    }));
    this.groups.clear();
  }

  /** Messages parked on a dead-letter topic (for tests and operators). */
  messages(topic: string): EventEnvelope[] {
    return this.topicLog(topic).map((m) => JSON.parse(m.value) as EventEnvelope);
  }

  private topicLog(topic: string): StoredMessage[] {
    let log = this.logs.get(topic);
    if (!log) this.logs.set(topic, (log = []));
    return log;
  }

  private wake(group: Group): void {
    if (group.running || group.stopped) return;
    group.running = true;
    setImmediate(() => {
      this.drain(group).finally(() => {
        group.running = false;
        if (!group.stopped && this.hasPending(group)) this.wake(group);
      });
    });
  }

  private hasPending(group: Group): boolean {
    return group.options.topics.some((topic) => (group.positions.get(topic) ?? 0) < this.topicLog(topic).length);
  }

  private async drain(group: Group): Promise<void> {
    const maxAttempts = group.options.maxAttempts ?? 5;
    while (!group.stopped && this.hasPending(group)) {
      for (const topic of group.options.topics) {
        const log = this.topicLog(topic);
        let position = group.positions.get(topic) ?? 0;
        while (!group.stopped && position < log.length) {
          const message = log[position]!;
          await this.deliver(group, message, maxAttempts);
          position += 1;
          group.positions.set(topic, position); // "commit" only after the handler finished or parked
        }
      }
    }
  }

  private async deliver(group: Group, message: StoredMessage, maxAttempts: number): Promise<void> {
    let envelope: EventEnvelope;
    try {
      envelope = envelopeSchema.parse(JSON.parse(message.value)) as EventEnvelope;
    } catch (error) {
      this.park(group, message, error, undefined);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const delivery: DeliveryInfo = { topic: message.topic, partition: 0, offset: String(message.offset), attempt };
      try {
        await group.options.handler(envelope, delivery);
        return;
      } catch (error) {
        if (attempt >= maxAttempts || group.stopped) {
          if (!group.stopped) this.park(group, message, error, envelope.id);
          return;
        }
        const delay = this.options.retryDelayMs?.(attempt) ?? Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private park(group: Group, message: StoredMessage, error: unknown, envelopeId: string | undefined): void {
    const reason = error instanceof Error ? error.message : String(error);
    const dlq = this.topicLog(deadLetterTopic(group.options.groupId));
    dlq.push({ topic: deadLetterTopic(group.options.groupId), key: message.key, offset: dlq.length, value: message.value });
    this.options.onDeadLetter?.({ groupId: group.options.groupId, topic: message.topic, error: reason, envelopeId });
  }
}
