import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { KafkaConsumerLag } from '../../src/consumer-lag.ts';
import type { EventEnvelope } from '../../src/envelope.ts';
import { KafkaEventBus } from '../../src/kafka-bus.ts';
import { eventually } from './eventually.ts';

export const testBrokers = () => (process.env.TEST_KAFKA_BROKERS ?? '').split(',').filter(Boolean);

/** Topic and group names unique to one test, so tests never see each other's messages. */
export const uniqueName = (prefix: string) => `${prefix}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/** A loopback port nothing listens on: a "broker" that is down. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RawRecord {
  key: string | null;
  value: string | null;
  partition: number;
  headers: Record<string, string>;
}

const text = (headers: IHeaders | undefined) =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, value === undefined ? '' : value.toString()]));

/** Reads a topic from the beginning with a plain kafkajs consumer until `count` records arrived. */
export async function readTopic(topic: string, count: number, timeoutMs = 30_000): Promise<RawRecord[]> {
  const kafka = new Kafka({ clientId: 'events-test-reader', brokers: testBrokers(), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), allowAutoTopicCreation: false });
  const records: RawRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        records.push({
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? null,
          partition,
          headers: text(message.headers),
        });
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (records.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    return records;
  } finally {
    await consumer.disconnect();
  }
}

/** Produces raw bytes (e.g. a message that is not an event at all) with a plain kafkajs producer. */
export async function produceRaw(
  topic: string,
  messages: { key: string; value: string; headers?: Record<string, string> }[],
): Promise<void> {
  const kafka = new Kafka({ clientId: 'events-test-writer', brokers: testBrokers(), logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** `eventually` with a broker-friendly default timeout. */
export const eventuallyOnKafka = (check: () => void | Promise<void>, timeoutMs = 30_000) => eventually(check, timeoutMs, 50);

/**
 * What the dead-letter and lag tests start with: a bus whose topic has two partitions, which parks a
 * message at its first failure and reads any JSON envelope (anything else is poison), and a lag probe.
 */
export async function busWithLagProbe(clientId: string, topic: string): Promise<{ bus: KafkaEventBus; lag: KafkaConsumerLag }> {
  const brokers = testBrokers();
  const bus = new KafkaEventBus({
    brokers,
    clientId,
    partitions: 2,
    maxAttempts: 1,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1000,
    decode: (value) => JSON.parse(value!.toString()) as EventEnvelope,
  });
  await bus.ensureTopics([topic]);
  return { bus, lag: new KafkaConsumerLag({ brokers, clientId: `${clientId}-lag` }) };
}
