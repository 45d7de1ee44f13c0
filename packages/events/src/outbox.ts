import type { EventEnvelope } from './envelope.ts';
import { topicFor } from './contracts/index.ts';

/** A row of a subgraph's `outbox_events` table (every subgraph's Prisma schema has the same model). */
export interface OutboxRow {
  id: string;
  topic: string;
  aggregateId: string;
  type: string;
  envelope: EventEnvelope;
}

/**
 * The slice of a Prisma transaction client the outbox needs. Structural, so it fits every
 * subgraph's generated client without importing any of them.
 */
export interface OutboxTransaction {
  outboxEvent: { createMany(args: { data: Array<Omit<OutboxRow, 'envelope'> & { envelope: object }> }): Promise<unknown> };
}

/** Appends events to the outbox inside the caller's transaction: they exist if and only if the change commits. */
export async function appendToOutbox(tx: OutboxTransaction, topic: string, envelopes: EventEnvelope[]): Promise<void> {
  if (envelopes.length === 0) return;
  await tx.outboxEvent.createMany({
    data: envelopes.map((envelope) => ({
      id: envelope.id,
      topic,
      aggregateId: envelope.aggregateId,
      type: envelope.type,
      envelope: envelope as object,
    })),
  });
}

/** The columns `outboxRow` fills, for an `INSERT INTO outbox_events (…)` written by hand. */
export const OUTBOX_INSERT_COLUMNS = 'id, topic, aggregate_id, type, envelope';

/**
 * One outbox row's values, in `OUTBOX_INSERT_COLUMNS` order (the envelope as JSON text), for a change that
 * writes its events in the same SQL statement as itself (then no transaction is needed around the two).
 */
export function outboxRow(topic: string, envelope: EventEnvelope): [string, string, string, string, string] {
  return [envelope.id, topic, envelope.aggregateId, envelope.type, JSON.stringify(envelope)];
}

/** Topics per producing context; the message key is the aggregate id. */
export const TOPICS = {
  catalog: 'catalog.events',
  users: 'users.events',
  orders: 'orders.events',
  billing: 'billing.events',
} as const;

/**
 * Appends events built with `createEvent` to the outbox inside the caller's transaction, each on its
 * type's topic. Append after the state change, so one aggregate's events get increasing sequences.
 */
export async function appendEvents(tx: OutboxTransaction, envelopes: EventEnvelope[]): Promise<void> {
  const byTopic = new Map<string, EventEnvelope[]>();
  for (const envelope of envelopes) {
    const topic = topicFor(envelope.type);
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), envelope]);
  }
  // One insert keeps the caller's order within the transaction (sequence order = append order).
  if (byTopic.size <= 1) {
    for (const [topic, list] of byTopic) await appendToOutbox(tx, topic, list);
    return;
  }
  for (const envelope of envelopes) await appendToOutbox(tx, topicFor(envelope.type), [envelope]);
}
