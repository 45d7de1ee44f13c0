import type { EventEnvelope } from './envelope.ts';

export interface OutgoingMessage {
  topic: string;
  /** Partition key: the aggregate id, so one aggregate's events stay in order. */
  key: string;
  envelope: EventEnvelope;
}

/** Resolves only once the transport has durably accepted every message (broker ack). */
export interface EventPublisher {
  publish(messages: OutgoingMessage[]): Promise<void>;
}

export interface DeliveryInfo {
  topic: string;
  partition: number;
  offset: string;
  attempt: number;
}

export type EventHandler = (envelope: EventEnvelope, delivery: DeliveryInfo) => Promise<void>;

export interface SubscriptionOptions {
  /** One consumer group per subscribing service; each group sees every event once (at least once). */
  groupId: string;
  topics: string[];
  handler: EventHandler;
  /** Attempts before a message is parked on the dead-letter topic. */
  maxAttempts?: number;
}

export interface Subscription {
  stop(): Promise<void>;
}

export interface EventSubscriber {
  subscribe(options: SubscriptionOptions): Promise<Subscription>;
}

export interface EventBus extends EventPublisher, EventSubscriber {
  close(): Promise<void>;
}

export const deadLetterTopic = (groupId: string) => `${groupId}.dlq`;

/**
 * Thrown by a handler (or a decoder) when retrying cannot help: the message is parked on the
 * dead-letter topic at once instead of after the retries.
 */
export class PermanentEventError extends Error {
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentEventError';
  }
}

export const isRetryable = (error: unknown) =>
  !(typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false);

/** Headers a parked message carries on the dead-letter topic, next to its original headers, key and value. */
export const DLQ_HEADERS = {
  error: 'dlq-error',
  errorName: 'dlq-error-name',
  attempts: 'dlq-attempts',
  groupId: 'dlq-consumer-group',
  topic: 'dlq-original-topic',
  partition: 'dlq-original-partition',
  offset: 'dlq-original-offset',
  failedAt: 'dlq-failed-at',
} as const;

/** What buses report when they park a message. */
export interface DeadLetter {
  groupId: string;
  topic: string;
  partition: number;
  offset: string;
  /** Handler calls made (0: the message could not be read). */
  attempts: number;
  error: string;
  eventId?: string;
  eventType?: string;
}
