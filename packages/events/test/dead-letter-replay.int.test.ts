/**
 * The dead-letter tool on a real Kafka broker: a message a broken handler parked is listed with its
 * error, replayed onto its original topic once the handler is fixed (the group then handles it), and
 * counted as replayed by the DLQ gauge; a second replay finds nothing left to do.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { describeWithServers } from '@commerce/testkit';
import { createEnvelope } from '../src/envelope.ts';
import type { KafkaEventBus } from '../src/kafka-bus.ts';
import { PermanentEventError, type Subscription } from '../src/bus.ts';
import type { KafkaConsumerLag } from '../src/consumer-lag.ts';
import { listDeadLetters, replayDeadLetters } from '../src/dead-letter-replay.ts';
import { busWithLagProbe } from './support/kafka.ts';

jest.setTimeout(120_000);

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describeWithServers(['TEST_KAFKA_BROKERS'], 'dead-letter list and replay on Kafka', () => {
  const brokers = process.env.TEST_KAFKA_BROKERS?.split(',') ?? [];
  const run = randomUUID().slice(0, 8);
  const topic = `dlq-tool-${run}.events`;
  const groupId = `dlq-tool-${run}.consumer`;
  let bus: KafkaEventBus;
  let subscription: Subscription | undefined;
  let lag: KafkaConsumerLag;

  beforeAll(async () => {
    ({ bus, lag } = await busWithLagProbe(`dlq-tool-${run}`, topic));
  });
  afterAll(async () => {
    await subscription?.stop();
    await lag?.close();
    await bus?.close();
  });

  test('lists a parked message, replays it to its topic after the fix, and never replays it twice', async () => {
    let broken = true;
    const handled: string[] = [];
    subscription = await bus.subscribe({
      groupId,
      topics: [topic],
      handler: async (event) => {
        if (broken && (event.payload as { kind?: string }).kind === 'fragile')
          throw new PermanentEventError('missing reference data');
        handled.push(event.id);
      },
    });
    const fragile = createEnvelope({ type: 'Something', aggregateId: 'order-1', payload: { kind: 'fragile' } });
    const sturdy = createEnvelope({ type: 'Something', aggregateId: 'order-2', payload: { kind: 'sturdy' } });
    await bus.publish([
      { topic, key: 'order-1', envelope: fragile },
      { topic, key: 'order-2', envelope: sturdy },
    ]);
    const depth = async () => (await lag.read(new Map([[groupId, [topic]]]))).deadLetters[0]?.messages;
    await until(async () => handled.includes(sturdy.id) && (await depth()) === 1);

    // Listed with where it came from and why; listing changes nothing.
    const parked = await listDeadLetters({ brokers, groupId });
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({
      originalTopic: topic,
      key: 'order-1',
      eventId: fragile.id,
      error: 'missing reference data',
      errorName: 'PermanentEventError',
    });
    expect(await listDeadLetters({ brokers, groupId })).toHaveLength(1);
    expect(await depth()).toBe(1);

    // Fixed and replayed: the group handles it from its original topic, and the gauge drops to 0.
    broken = false;
    const outcome = await replayDeadLetters({ brokers, groupId });
    expect(outcome.replayed.map((message) => message.eventId)).toEqual([fragile.id]);
    expect(outcome.skipped).toEqual([]);
    await until(() => handled.includes(fragile.id));
    expect(await depth()).toBe(0);
    expect(await listDeadLetters({ brokers, groupId })).toEqual([]);

    // Nothing left: a second replay sends nothing, and the message was handled exactly once more.
    expect((await replayDeadLetters({ brokers, groupId })).replayed).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(handled.filter((id) => id === fragile.id)).toHaveLength(1);
  });
});
