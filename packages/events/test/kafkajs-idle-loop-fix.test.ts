import { createRequire } from 'node:module';
import { fixKafkajsIdleLoop, type RequestQueueLike } from '../src/kafkajs-idle-loop-fix.ts';

const require = createRequire(import.meta.url);

const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: object) => RequestQueueLike;
const silent = { debug() {}, info() {}, warn() {}, error() {}, namespace: () => silent };
const newQueue = () =>
  new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 1000,
    enforceRequestTimeout: true,
    clientId: 't',
    broker: 'b',
    logger: silent,
  });

describe("kafkajs' idle request-queue loop", () => {
  beforeAll(() => {
    fixKafkajsIdleLoop();
  });

  it('is patched once, for kafkajs 2.2.4', () => {
    expect(fixKafkajsIdleLoop()).toBe('already applied');
  });

  it('schedules no check when nothing is pending and nothing is throttled (2.2.4 looped every millisecond)', () => {
    const queue = newQueue();
    queue.scheduleCheckPendingRequests();
    expect(queue.throttleCheckTimeoutId).toBeNull();
  });

  it('still checks later when a request is pending, or when a throttle ends', () => {
    const waiting = newQueue();
    waiting.pending.push({});
    waiting.scheduleCheckPendingRequests();
    expect(waiting.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(waiting.throttleCheckTimeoutId!);

    const throttled = newQueue();
    throttled.throttledUntil = Date.now() + 5000;
    throttled.scheduleCheckPendingRequests();
    expect(throttled.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(throttled.throttleCheckTimeoutId!);
  });
});
