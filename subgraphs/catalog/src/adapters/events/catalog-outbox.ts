/**
 * Writes the catalog's domain events to its outbox (`catalog.events`). `createEvent` checks each payload
 * against the shared contract first: a payload that breaks it fails the transaction here, instead of
 * sitting in the outbox and holding back its aggregate's later events.
 */
import {
  appendToOutbox,
  createEvent,
  TOPICS,
  type EventPayloadInput,
  type NewEvent,
  type OutboxTransaction,
} from '@commerce/events';
import type { CatalogEvent } from '../../domain/events.ts';
import type { EventCause } from '../../ports/catalog-store.ts';

export const CATALOG_TOPIC = TOPICS.catalog;

export function toEnvelopeCause(cause: EventCause | undefined): NewEvent<unknown>['cause'] {
  if (!cause) return undefined;
  const traceparent = cause.traceparent ?? null;
  return cause.causationId
    ? { id: cause.causationId, correlationId: cause.correlationId, traceparent }
    : { correlationId: cause.correlationId, traceparent };
}

export async function appendCatalogEvents(
  tx: OutboxTransaction,
  events: readonly CatalogEvent[],
  cause?: EventCause,
): Promise<void> {
  const envelopeCause = toEnvelopeCause(cause);
  const now = new Date();
  const envelopes = events.map((event) =>
    createEvent(event.type, event.payload as EventPayloadInput<typeof event.type>, envelopeCause, now),
  );
  await appendToOutbox(tx, CATALOG_TOPIC, envelopes);
}
