import { Registry } from '@commerce/platform';
import { createEnvelope, type EventEnvelope } from './envelope.ts';
import { InProcessEventBus } from './in-process-bus.ts';
import {
  inProcessConsumerLag,
  messagesBehind,
  registerConsumerLagMetrics,
  trackingConsumerGroups,
  type ConsumerLagReading,
  type ConsumerLagSource,
} from './consumer-lag.ts';

const TOPIC = 'test.events';
const GROUP = 'test.consumer';

/** A bus whose decoder refuses events of type `Poison` (they are parked at once), like a contract violation. */
function testBus(): InProcessEventBus {
  return new InProcessEventBus({
    retryDelayMs: () => 1,
    decode: (value) => {
      const envelope = JSON.parse(value) as EventEnvelope;
      if (envelope.type === 'Poison') throw new Error('unreadable');
      return envelope;
    },
  });
}

const message = (type = 'Something') => ({
  topic: TOPIC,
  key: 'k',
  envelope: createEnvelope({ type, aggregateId: 'a', payload: {} }),
});

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = await read();
  }
  return value;
}

const total = (reading: ConsumerLagReading) => reading.lag.reduce((sum, partition) => sum + partition.messages, 0);

describe('messagesBehind', () => {
  test('is the distance from the committed offset to the end of the partition', () => {
    expect(messagesBehind({ low: '0', high: '10' }, '7')).toBe(3);
    expect(messagesBehind({ low: '0', high: '10' }, '10')).toBe(0);
  });

  test('a group that never committed starts at the earliest retained message', () => {
    expect(messagesBehind({ low: '4', high: '10' }, '-1')).toBe(6);
    expect(messagesBehind({ low: '0', high: '0' }, '-1')).toBe(0);
  });

  test('a committed offset that retention deleted counts from the log start', () => {
    expect(messagesBehind({ low: '50', high: '60' }, '20')).toBe(10);
  });
});

describe('consumer lag on the in-process bus', () => {
  test('rises while the group is stopped with messages waiting, and falls once it consumes again', async () => {
    const bus = testBus();
    const tracking = trackingConsumerGroups(bus);
    const lag = inProcessConsumerLag(bus);
    const seen: string[] = [];
    const subscribe = () =>
      tracking.bus.subscribe({ groupId: GROUP, topics: [TOPIC], handler: async (event) => void seen.push(event.id) });

    const first = await subscribe();
    await tracking.bus.publish([message()]);
    expect(
      total(
        await until(
          () => lag.read(tracking.groups()),
          (r) => total(r) === 0 && seen.length === 1,
        ),
      ),
    ).toBe(0);

    await first.stop();
    await tracking.bus.publish([message(), message(), message()]);
    expect(await lag.read(tracking.groups())).toEqual({
      lag: [{ group: GROUP, topic: TOPIC, partition: 0, messages: 3 }],
      deadLetters: [{ group: GROUP, messages: 0 }],
    });

    const second = await subscribe();
    const after = await until(
      () => lag.read(tracking.groups()),
      (reading) => total(reading) === 0,
    );
    expect(total(after)).toBe(0);
    expect(seen).toHaveLength(4);
    await second.stop();
    await bus.close();
  });

  test('counts a poison message on the group dead-letter topic', async () => {
    const bus = testBus();
    const tracking = trackingConsumerGroups(bus);
    const lag = inProcessConsumerLag(bus);
    const subscription = await tracking.bus.subscribe({ groupId: GROUP, topics: [TOPIC], handler: async () => {} });
    await tracking.bus.publish([message('Poison'), message()]);
    const reading = await until(
      () => lag.read(tracking.groups()),
      (r) => r.deadLetters[0]?.messages === 1 && total(r) === 0,
    );
    expect(reading.deadLetters).toEqual([{ group: GROUP, messages: 1 }]);
    expect(total(reading)).toBe(0);
    await subscription.stop();
    await bus.close();
  });

  test('reports only the groups subscribed through the tracked bus, and remembers every topic', async () => {
    const bus = testBus();
    const mine = trackingConsumerGroups(bus);
    const theirs = trackingConsumerGroups(bus);
    const a = await mine.bus.subscribe({ groupId: 'mine', topics: ['one'], handler: async () => {} });
    await a.stop();
    const b = await mine.bus.subscribe({ groupId: 'mine', topics: ['two'], handler: async () => {} });
    const c = await theirs.bus.subscribe({ groupId: 'theirs', topics: ['one'], handler: async () => {} });
    expect([...mine.groups()]).toEqual([['mine', ['one', 'two']]]);
    await Promise.all([b.stop(), c.stop()]);
    await bus.close();
  });
});

describe('lag gauges', () => {
  const reading: ConsumerLagReading = {
    lag: [
      { group: 'orders.saga', topic: 'catalog.events', partition: 0, messages: 4 },
      { group: 'orders.saga', topic: 'catalog.events', partition: 1, messages: 0 },
    ],
    deadLetters: [{ group: 'orders.saga', messages: 2 }],
  };
  const groups = () => new Map([['orders.saga', ['catalog.events']]]);

  function countingSource(answers: (() => Promise<ConsumerLagReading>)[]): ConsumerLagSource & { reads: number } {
    const source = {
      reads: 0,
      read: () => answers[Math.min(source.reads++, answers.length - 1)]!(),
      close: async () => {},
    };
    return source;
  }

  test('expose each partition and dead-letter topic, measured once for both gauges', async () => {
    const registry = new Registry();
    const source = countingSource([async () => reading]);
    const stop = registerConsumerLagMetrics(registry, { source, groups, cacheMs: 60_000 });
    const text = await registry.metrics();
    expect(text).toContain('events_consumer_lag_messages{group="orders.saga",topic="catalog.events",partition="0"} 4');
    expect(text).toContain('events_consumer_lag_messages{group="orders.saga",topic="catalog.events",partition="1"} 0');
    expect(text).toContain('events_dead_letter_queue_messages{group="orders.saga"} 2');
    await registry.metrics();
    expect(source.reads).toBe(1); // cached: the broker is asked at most once per cacheMs
    await stop();
  });

  test('report the last measurement when the broker does not answer', async () => {
    const registry = new Registry();
    const source = countingSource([async () => reading, () => Promise.reject(new Error('broker down'))]);
    const warnings: string[] = [];
    const logger = { warn: (_: unknown, msg: string) => warnings.push(msg) } as never;
    const stop = registerConsumerLagMetrics(registry, { source, groups, cacheMs: 0, logger });
    await registry.metrics();
    const text = await registry.metrics();
    expect(source.reads).toBeGreaterThanOrEqual(2);
    expect(text).toContain('events_dead_letter_queue_messages{group="orders.saga"} 2');
    expect(warnings).toEqual(['consumer lag measurement failed; reporting the last one']);
    await stop();
  });

  test('abandon a measurement that takes too long', async () => {
    const registry = new Registry();
    const source = countingSource([() => new Promise<never>(() => {})]);
    const stop = registerConsumerLagMetrics(registry, { source, groups, cacheMs: 0, timeoutMs: 20 });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE events_consumer_lag_messages gauge');
    expect(text).not.toContain('events_consumer_lag_messages{');
    await stop();
  });
});
