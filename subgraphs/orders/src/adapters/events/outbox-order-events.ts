import {
  appendToOutbox,
  createEvent,
  TOPICS,
  type EventPayloadInput,
  type NewEvent,
  type OutboxTransaction,
} from '@commerce/events';
import type { OrderEvent } from '../../domain/order-events.ts';
import type { Clock } from '../../ports/clock.ts';
import type { EventCause, OrderEventOutbox } from '../../ports/order-event-outbox.ts';

const causeOf = (cause: EventCause | undefined): NewEvent<unknown>['cause'] => {
  if (!cause) return undefined;
  return cause.id
    ? { id: cause.id, correlationId: cause.correlationId, traceparent: cause.traceparent ?? null }
    : { correlationId: cause.correlationId, traceparent: cause.traceparent ?? null };
};

/**
 * Orders' events in the shared envelope, on topic `orders.events` keyed by the order id. Each payload is
 * checked against its shared contract first, so a malformed event never enters the outbox.
 */
export class OutboxOrderEvents implements OrderEventOutbox {
  constructor(
    private readonly tx: OutboxTransaction,
    private readonly clock: Clock,
  ) {}

  async append(events: OrderEvent[], cause?: EventCause): Promise<void> {
    const now = this.clock.now();
    const envelopes = events.map((event) =>
      createEvent(event.type, event.payload as EventPayloadInput<typeof event.type>, causeOf(cause), now),
    );
    await appendToOutbox(this.tx, TOPICS.orders, envelopes);
  }
}
