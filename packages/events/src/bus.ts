import { isInfrastructureUnavailable } from '@commerce/platform/errors';
import { contextFromTraceparent, SpanKind, withSpan } from '@commerce/platform/tracing';
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
  /** The subscribing service, named on its consumer spans (default: the group id up to its first dot). */
  service?: string;
  /**
   * The event types the handler acts on, when it ignores the rest: a message whose `type` header names
   * another type is passed over (committed) without being decoded, validated or traced. A message without
   * the header is decoded as before. Default: every type goes to the handler.
   */
  types?: readonly string[];
}

/** True when the subscription said which types it handles and the message's `type` header is not one of them. */
export function passesOver(options: Pick<SubscriptionOptions, 'types'>, typeHeader: string | undefined): boolean {
  return options.types !== undefined && typeHeader !== undefined && !options.types.includes(typeHeader);
}

/** The service a subscription's consumer spans belong to. */
export const subscriberService = (options: Pick<SubscriptionOptions, 'groupId' | 'service'>) =>
  options.service ?? options.groupId.split('.')[0]!;

/**
 * Calls a subscription's handler inside a CONSUMER span (one per attempt) whose parent is the message's
 * traceparent, never whatever context the bus happens to run in; events the handler writes carry this
 * span's context, so a saga stays one trace. Both buses deliver through it (same contract).
 */
export function handleInConsumerSpan(
  options: SubscriptionOptions,
  envelope: EventEnvelope,
  delivery: DeliveryInfo,
  system: 'kafka' | 'in-process',
): Promise<void> {
  return withSpan(
    subscriberService(options),
    `process ${delivery.topic}`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFromTraceparent(envelope.traceparent),
      attributes: {
        'messaging.system': system,
        'messaging.operation.type': 'process',
        'messaging.destination.name': delivery.topic,
        'messaging.destination.partition.id': String(delivery.partition),
        'messaging.consumer.group.name': options.groupId,
        'messaging.message.id': envelope.id,
        'messaging.kafka.offset': Number(delivery.offset),
        'event.type': envelope.type,
        'event.attempt': delivery.attempt,
      },
    },
    () => options.handler(envelope, delivery),
  );
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

/**
 * The handler's infrastructure is unreachable (its database, Redis, a peer: an outage or restart): nothing
 * is wrong with the message, so this failure never uses up the attempts before parking — the consumer
 * keeps retrying (backing off) until the server is back, holding that partition in order, instead of
 * sending good events to the DLQ (a 10 s Redis outage once parked 16 of the gateway's cache purges).
 */
export const isOutage = (error: unknown) => isInfrastructureUnavailable(error);

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
