import type { OrderEvent } from '../domain/order-events.ts';

/** The request or event a change follows from, so one checkout's events stay correlated. */
export interface EventCause {
  /** The id of the event being handled, when a consumer causes the change. */
  id?: string;
  correlationId: string;
  traceparent?: string | null;
}

/** Appends events inside the current transaction: they exist if and only if the change commits. */
export interface OrderEventOutbox {
  append(events: OrderEvent[], cause?: EventCause): Promise<void>;
}
