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
