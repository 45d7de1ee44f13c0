import type { EventEnvelope } from './envelope.ts';

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

/** Topics per producing context; the message key is the aggregate id. */
export const TOPICS = {
  catalog: 'catalog.events',
  users: 'users.events',
  orders: 'orders.events',
  billing: 'billing.events',
} as const;
