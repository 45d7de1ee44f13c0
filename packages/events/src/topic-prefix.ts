import type { EventBus, OutgoingMessage, Subscription, SubscriptionOptions } from './bus.ts';

/**
 * An EventBus whose topics and consumer groups all carry `prefix`, so several stacks (test runs, say)
 * can share one broker without reading each other's events. Producers and consumers keep using the
 * plain names (`orders.events`, `catalog.saga`); dead-letter topics follow the prefixed group.
 */
export function withTopicPrefix(bus: EventBus, prefix: string): EventBus {
  if (!prefix) return bus;
  return {
    publish: (messages: OutgoingMessage[]) =>
      bus.publish(messages.map((message) => ({ ...message, topic: `${prefix}${message.topic}` }))),
    subscribe: (options: SubscriptionOptions): Promise<Subscription> =>
      bus.subscribe({
        ...options,
        groupId: `${prefix}${options.groupId}`,
        topics: options.topics.map((topic) => `${prefix}${topic}`),
      }),
    close: () => bus.close(),
  };
}
