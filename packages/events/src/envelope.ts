import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { activeTraceparent } from '@commerce/platform/tracing';

/** The envelope every event travels in, on Kafka and on the in-process bus alike. */
export const envelopeSchema = z.object({
  id: z.string().uuid(),
  type: z.string().min(1),
  version: z.number().int().positive(),
  occurredAt: z.string().datetime({ offset: true }),
  aggregateId: z.string().min(1),
  correlationId: z.string().min(1),
  causationId: z.string().nullable(),
  traceparent: z.string().nullable(),
  payload: z.unknown(),
});

export type EventEnvelope<Payload = unknown> = Omit<z.infer<typeof envelopeSchema>, 'payload'> & { payload: Payload };

export interface NewEvent<Payload> {
  type: string;
  version?: number;
  aggregateId: string;
  payload: Payload;
  /** The event or request this one follows from; keeps one checkout's events correlated. */
  cause?: Pick<EventEnvelope, 'id' | 'correlationId' | 'traceparent'> | { correlationId: string; traceparent?: string | null };
}

export function createEnvelope<Payload>(event: NewEvent<Payload>, now = new Date()): EventEnvelope<Payload> {
  const id = randomUUID();
  const cause = event.cause;
  return {
    id,
    type: event.type,
    version: event.version ?? 1,
    occurredAt: now.toISOString(),
    aggregateId: event.aggregateId,
    correlationId: cause?.correlationId ?? id,
    causationId: cause && 'id' in cause ? cause.id : null,
    // The span the event is written in (a request, or the consumer span of the event that caused it),
    // so its consumers continue the same trace; without tracing, the cause's trace context.
    traceparent: activeTraceparent() ?? cause?.traceparent ?? null,
    payload: event.payload,
  };
}
