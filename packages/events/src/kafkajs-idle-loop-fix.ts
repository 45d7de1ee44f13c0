/**
 * kafkajs 2.2.4 keeps every broker connection's request queue checking for pending requests in a 1 ms
 * `setTimeout` loop when there are none (tulios/kafkajs#1556, #1704; unfixed upstream): each process spent
 * ~10% of a core doing nothing, and more under load. The fix the upstream pull requests propose: with no
 * pending request and no throttling, schedule nothing — a request enqueued later schedules its own check,
 * and a fulfilled request checks the queue anyway. Applied once, to the one kafkajs version it was written
 * for (the method's source must be the one shown below); any other version is left as it is.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The fields of kafkajs' RequestQueue this fix reads and writes. */
export interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

const CHECK_PENDING_REQUESTS_INTERVAL = 10; // kafkajs' own constant

/** The kafkajs 2.2.4 method this replaces, whitespace-insensitively (so another version is never patched). */
const UNPATCHED = `scheduleCheckPendingRequests() { let scheduleAt = this.throttledUntil - Date.now() if (!this.throttleCheckTimeoutId) { if (this.pending.length > 0) { scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL } this.throttleCheckTimeoutId = setTimeout(() => { this.throttleCheckTimeoutId = null this.checkPendingRequests() }, scheduleAt) } }`;

const withoutComments = (source: string) =>
  source
    .replace(/\/\/[^\n]*/g, '')
    .replace(/\s+/g, ' ')
    .trim();

export type IdleLoopFix = 'applied' | 'already applied' | 'not needed (another kafkajs version)';

let outcome: IdleLoopFix | undefined;

/** Patches kafkajs' RequestQueue (idempotent); returns what it did. */
export function fixKafkajsIdleLoop(): IdleLoopFix {
  if (outcome) return outcome === 'applied' ? 'already applied' : outcome;
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueLike };
  const original = RequestQueue.prototype.scheduleCheckPendingRequests;
  if (withoutComments(original.toString()) !== UNPATCHED) return (outcome = 'not needed (another kafkajs version)');
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueueLike) {
    if (this.throttleCheckTimeoutId) return;
    let scheduleAt = this.throttledUntil - Date.now();
    if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
    else if (scheduleAt <= 0) return; // nothing waiting, no throttle: nothing to check later
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, scheduleAt);
  };
  return (outcome = 'applied');
}
