import type { EventEnvelope } from './envelope.ts';

/** What the inbox needs from a Prisma transaction client: raw SQL. */
export interface InboxTransaction {
  $executeRawUnsafe(query: string, ...values: any[]): PromiseLike<number>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A Prisma client (structurally): `Tx` is its transaction client, handed to the effect. */
export interface InboxDatabase<Tx extends InboxTransaction> {
  $transaction<R>(fn: (tx: Tx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
}

/**
 * Applies an event's effect at most once per consumer: records `(consumer, event id)` in
 * `processed_events` in the same transaction as the effect. A redelivered or duplicated event finds
 * its record, does nothing and returns false; if the effect throws, neither is kept and a redelivery
 * tries again. Two deliveries racing each other serialize on the record's primary key.
 */
export async function processOnce<Tx extends InboxTransaction>(
  db: InboxDatabase<Tx>,
  consumer: string,
  event: Pick<EventEnvelope, 'id'>,
  effect: (tx: Tx) => PromiseLike<unknown>,
): Promise<boolean> {
  return db.$transaction(
    async (tx) => {
      const recorded = await tx.$executeRawUnsafe(
        'INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2::uuid) ON CONFLICT DO NOTHING',
        consumer,
        event.id,
      );
      if (recorded === 0) return false;
      await effect(tx);
      return true;
    },
    // A consumer handles several aggregates at once, so a burst can queue for pool connections for a while.
    { maxWait: 10_000, timeout: 15_000 },
  );
}

/**
 * Records `(consumer, event id)` on its own, in one statement, for consumers whose effect cannot share
 * a transaction with it (billing's calls to the payment provider): true when this call recorded it.
 */
export async function recordProcessed(
  db: InboxTransaction,
  consumer: string,
  event: Pick<EventEnvelope, 'id'>,
): Promise<boolean> {
  const recorded = await db.$executeRawUnsafe(
    'INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2::uuid) ON CONFLICT DO NOTHING',
    consumer,
    event.id,
  );
  return recorded > 0;
}
