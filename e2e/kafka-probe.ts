/** Looks at the broker from the test's side: publish raw messages, wait for consumer groups to catch up, read a DLQ. */
import { Kafka, logLevel, type Admin } from 'kafkajs';

export class KafkaProbe {
  readonly kafka: Kafka;
  private admin: Admin | undefined;

  constructor(
    brokers: string,
    readonly prefix: string,
  ) {
    this.kafka = new Kafka({ clientId: `saga-e2e-probe-${prefix}`, brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  }

  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }

  /** Sends raw messages (duplicates, poison) to a topic of this run. */
  async send(topic: string, messages: { key: string; value: string; partition?: number }[]): Promise<void> {
    const producer = this.kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic: `${this.prefix}${topic}`, acks: -1, messages });
    } finally {
      await producer.disconnect();
    }
  }

  async partitions(topic: string): Promise<number[]> {
    const admin = await this.connectedAdmin();
    return (await admin.fetchTopicOffsets(`${this.prefix}${topic}`)).map((entry) => entry.partition);
  }

  /** Waits until every group committed offsets up to the end of every topic it reads. */
  async waitForCaughtUp(groups: Record<string, string[]>, timeoutMs = 30_000): Promise<void> {
    const admin = await this.connectedAdmin();
    const deadline = Date.now() + timeoutMs;
    let lag: string[] = [];
    while (Date.now() < deadline) {
      lag = [];
      for (const [group, topics] of Object.entries(groups)) {
        const prefixed = topics.map((topic) => `${this.prefix}${topic}`);
        const committed = await admin.fetchOffsets({ groupId: `${this.prefix}${group}`, topics: prefixed });
        for (const topic of prefixed) {
          const ends = await admin.fetchTopicOffsets(topic);
          const positions = committed.find((entry) => entry.topic === topic)?.partitions ?? [];
          for (const end of ends) {
            const position = Number(positions.find((p) => p.partition === end.partition)?.offset ?? -1);
            if (Math.max(position, 0) < Number(end.high)) lag.push(`${group} ${topic}[${end.partition}] ${position}/${end.high}`);
          }
        }
      }
      if (lag.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`consumer groups did not catch up: ${lag.join(', ')}`);
  }

  /** Every message on a topic of this run so far, with its headers as strings. */
  async readAll(
    topic: string,
    timeoutMs = 10_000,
  ): Promise<{ key: string | null; value: string | null; headers: Record<string, string> }[]> {
    const admin = await this.connectedAdmin();
    const prefixed = `${this.prefix}${topic}`;
    const ends = await admin.fetchTopicOffsets(prefixed);
    const total = ends.reduce((sum, end) => sum + Number(end.high) - Number(end.low), 0);
    const messages: { key: string | null; value: string | null; headers: Record<string, string> }[] = [];
    if (total === 0) return messages;
    const consumer = this.kafka.consumer({ groupId: `saga-e2e-reader-${Math.random().toString(36).slice(2)}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [prefixed], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${messages.length}/${total} messages of ${prefixed}`)), timeoutMs);
      void consumer.run({
        eachMessage: async ({ message }) => {
          messages.push({
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? null,
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          });
          if (messages.length >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    }).finally(() => consumer.disconnect());
    return messages;
  }

  async close(): Promise<void> {
    await this.admin?.disconnect();
  }
}

/** The topics each saga consumer group reads (see subgraphs/<name>/src/adapters/events/saga-consumer.ts). */
export const SAGA_GROUPS = {
  'catalog.saga': ['orders.events', 'billing.events'],
  'billing.saga': ['catalog.events', 'orders.events'],
  'orders.saga': ['catalog.events', 'billing.events'],
};
