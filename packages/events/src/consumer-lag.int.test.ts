/**
 * Consumer lag and dead-letter depth measured on a real Kafka broker: a stopped consumer falls behind by
 * exactly the messages published meanwhile and catches up once it resumes; a poison message shows on its
 * group's DLQ until a replay group commits past it.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from '@commerce/platform';
import { describeWithServers } from '@commerce/testkit';
import { createEnvelope } from './envelope.ts';
import type { KafkaEventBus } from './kafka-bus.ts';
import { deadLetterTopic } from './bus.ts';
import type { KafkaConsumerLag } from './consumer-lag.ts';
import {
  deadLetterReplayGroup,
  registerConsumerLagMetrics,
  trackingConsumerGroups,
  type ConsumerLagReading,
} from './consumer-lag.ts';
import { busWithLagProbe } from '../test/support/kafka.ts';

jest.setTimeout(120_000);

const total = (reading: ConsumerLagReading) => reading.lag.reduce((sum, partition) => sum + partition.messages, 0);

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    value = await read();
  }
  return value;
}

describeWithServers(['TEST_KAFKA_BROKERS'], 'consumer lag on Kafka', () => {
  const brokers = process.env.TEST_KAFKA_BROKERS?.split(',') ?? [];
  const run = randomUUID().slice(0, 8);
  const topic = `lag-${run}.events`;
  const group = `lag-${run}.consumer`;
  let bus: KafkaEventBus;
  let lag: KafkaConsumerLag;
  const kafka = new Kafka({ clientId: `lag-test-${run}`, brokers, logLevel: logLevel.NOTHING });

  beforeAll(async () => {
    ({ bus, lag } = await busWithLagProbe(`lag-test-${run}`, topic));
  });
  afterAll(async () => {
    await lag?.close();
    await bus?.close();
  });

  const message = (i: number) => ({
    topic,
    key: `order-${i}`,
    envelope: createEnvelope({ type: 'Something', aggregateId: `order-${i}`, payload: { i } }),
  });

  test('lag rises while the consumer is stopped, falls after it resumes, and a poison message shows on the DLQ', async () => {
    const tracking = trackingConsumerGroups(bus);
    const seen = new Set<string>();
    const subscribe = () =>
      tracking.bus.subscribe({ groupId: group, topics: [topic], handler: async (event) => void seen.add(event.id) });
    const read = () => lag.read(tracking.groups());

    // Running and caught up.
    const first = await subscribe();
    await tracking.bus.publish([message(0), message(1)]);
    let reading = await until(read, (r) => seen.size === 2 && total(r) === 0);
    expect(total(reading)).toBe(0);
    expect(reading.lag.map((p) => p.partition).sort()).toEqual([0, 1]);
    expect(reading.deadLetters).toEqual([{ group, messages: 0 }]);

    // Stopped with 7 messages waiting: exactly 7 behind, across both partitions.
    await first.stop();
    await tracking.bus.publish(Array.from({ length: 7 }, (_, i) => message(10 + i)));
    reading = await read();
    expect(total(reading)).toBe(7);
    expect(reading.lag.every((p) => p.group === group && p.topic === topic)).toBe(true);

    // Resumed: back to 0 once it committed everything.
    const second = await subscribe();
    reading = await until(read, (r) => total(r) === 0);
    expect(total(reading)).toBe(0);
    expect(seen.size).toBe(9);

    // A message that cannot be read is parked on the group's DLQ: depth 1, and the lag stays 0.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'poison', value: '{not json' }] });
    await producer.disconnect();
    reading = await until(read, (r) => r.deadLetters[0]?.messages === 1 && total(r) === 0);
    expect(reading.deadLetters).toEqual([{ group, messages: 1 }]);
    expect(total(reading)).toBe(0);

    // The gauges on a registry show the same numbers.
    const registry = new Registry();
    const stop = registerConsumerLagMetrics(registry, { source: lag, groups: tracking.groups, cacheMs: 0 });
    const text = await registry.metrics();
    expect(text).toContain(`events_dead_letter_queue_messages{group="${group}"} 1`);
    expect(text).toMatch(new RegExp(`events_consumer_lag_messages\\{group="${group}",topic="${topic}",partition="0"\\} 0`));

    // An operator replays it with the replay group: once that group committed past it, nothing waits.
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(deadLetterTopic(group));
    await admin.setOffsets({
      groupId: deadLetterReplayGroup(group),
      topic: deadLetterTopic(group),
      partitions: ends.map((end) => ({ partition: end.partition, offset: end.high })),
    });
    await admin.disconnect();
    reading = await read();
    expect(reading.deadLetters).toEqual([{ group, messages: 0 }]);

    await second.stop();
    // registerConsumerLagMetrics closes its source; `lag` is closed again in afterAll (harmless).
    await stop();
  });
});
