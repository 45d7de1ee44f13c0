/**
 * Keeps cached responses honest: catalog events about a product purge every cached response that
 * contains it (and every cached list of products), through the `EventSubscriber` port — the in-process
 * bus in embedded mode, Kafka in full mode.
 */
import { TOPICS, type EventEnvelope, type EventSubscriber, type Subscription } from '@commerce/events';
import type { Logger } from '@commerce/platform';
import { ANY_ID, entityTag } from './entity-tags.ts';
import type { CacheStore } from './store.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';

/** Catalog events that change what a cached product response shows. */
export const PRODUCT_EVENTS = new Set([
  'ProductCreated',
  'ProductUpdated',
  'ProductArchived',
  'StockChanged',
  'StockReserved',
  'StockReleased',
]);

/** Product ids an event concerns: its own (product events) or its lines' (stock reservation saga events). */
function productIds(envelope: Pick<EventEnvelope, 'type' | 'aggregateId' | 'payload'>): string[] {
  const payload = (envelope.payload ?? {}) as { productId?: unknown; lines?: { productId?: unknown }[] };
  const ids = new Set<string>();
  if (typeof payload.productId === 'string') ids.add(payload.productId);
  if (Array.isArray(payload.lines))
    for (const line of payload.lines) if (typeof line?.productId === 'string') ids.add(line.productId);
  if (ids.size === 0 && envelope.type.startsWith('Product')) ids.add(envelope.aggregateId);
  return [...ids];
}

/** Tags to purge for one event: each product it concerns, and every cached response listing products. */
export function purgeTagsFor(envelope: Pick<EventEnvelope, 'type' | 'aggregateId' | 'payload'>): string[] {
  if (!PRODUCT_EVENTS.has(envelope.type)) return [];
  const ids = productIds(envelope);
  if (ids.length === 0) return [];
  return [...ids.map((id) => entityTag('Product', id)), entityTag('Product', ANY_ID)];
}

export interface CachePurge {
  eventType: string;
  eventId: string;
  aggregateId: string;
  tags: string[];
  deleted: number;
}

export async function subscribeCachePurges(options: {
  subscriber: EventSubscriber;
  store: CacheStore;
  groupId: string;
  logger: Logger;
  metrics?: GatewayMetrics;
  /** Told after each purge (operators' hooks, tests). */
  onPurged?: (purge: CachePurge) => void;
}): Promise<Subscription> {
  const { subscriber, store, groupId, logger, metrics, onPurged } = options;
  return subscriber.subscribe({
    groupId,
    service: 'gateway', // names its consumer spans
    topics: [TOPICS.catalog],
    // A failed purge is retried by the bus (the handler throws); purging twice is harmless.
    handler: async (envelope) => {
      const tags = purgeTagsFor(envelope);
      if (tags.length === 0) return;
      const deleted = await store.purge(tags);
      metrics?.cachePurges.inc({ event: envelope.type });
      metrics?.cachePurgedEntries.inc(deleted);
      onPurged?.({ eventType: envelope.type, eventId: envelope.id, aggregateId: envelope.aggregateId, tags, deleted });
      logger.debug({ event: envelope.type, aggregateId: envelope.aggregateId, deleted }, 'purged cached responses');
    },
  });
}
