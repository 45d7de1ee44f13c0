/**
 * The event contracts of the shop: one zod schema per event type and version, the topic each type
 * is published on, and how its aggregate id (the Kafka key) follows from the payload. Producers
 * build events with `createEvent`; the relay checks them before publishing and the buses check them
 * (upcasting older versions) before any handler sees them.
 */
import type { z } from 'zod';
import { createEnvelope, envelopeSchema, type EventEnvelope, type NewEvent } from '../envelope.ts';
import type { DeliveryInfo, EventHandler } from '../bus.ts';
import { describeIssues, EventContractError, type EventContract } from './define.ts';
import {
  ProductArchived,
  ProductCreated,
  ProductUpdated,
  StockChanged,
  StockRejected,
  StockReleased,
  StockReserved,
} from './catalog.ts';
import { UserRegistered } from './users.ts';
import { OrderCancelled, OrderConfirmed, OrderDelivered, OrderPlaced, OrderShipped } from './orders.ts';
import { PaymentCaptured, PaymentFailed, PaymentRefunded } from './billing.ts';

export { defineEvent, previousVersion, EventContractError, type EventContract, type PreviousVersion } from './define.ts';
export { ORDER_PLACED_V1_CURRENCY } from './orders.ts';
export type { Money } from './common.ts';

export const eventContracts = {
  ProductCreated,
  ProductUpdated,
  ProductArchived,
  StockChanged,
  StockReserved,
  StockRejected,
  StockReleased,
  UserRegistered,
  OrderPlaced,
  OrderConfirmed,
  OrderCancelled,
  OrderShipped,
  OrderDelivered,
  PaymentCaptured,
  PaymentFailed,
  PaymentRefunded,
} as const;

type Contracts = typeof eventContracts;
export type EventType = keyof Contracts;
/** The payload of the current version, as consumers receive it (defaults applied). */
export type EventPayload<T extends EventType> = z.output<Contracts[T]['schema']>;
/** What a producer passes to `createEvent` (fields with defaults may be left out). */
export type EventPayloadInput<T extends EventType> = z.input<Contracts[T]['schema']>;
/** An envelope whose `type` names its payload's shape; a union over every type by default. */
export type DomainEvent<T extends EventType = EventType> = {
  [K in T]: EventEnvelope<EventPayload<K>> & { type: K };
}[T];

export type EventRegistry = Readonly<Record<string, EventContract>>;

export const EVENT_TYPES = Object.keys(eventContracts) as EventType[];

function contractOf(type: string, registry: EventRegistry = eventContracts): EventContract | undefined {
  return Object.hasOwn(registry, type) ? registry[type] : undefined;
}

/** The topic an event type is published on (its producing context's topic). */
export function topicFor(type: EventType | string): string {
  const contract = contractOf(type);
  if (!contract) throw new EventContractError(`unknown event type ${JSON.stringify(type)}`);
  return contract.topic;
}

/**
 * Builds a valid event of the current version: the payload is checked against its contract and the
 * aggregate id (the partition key) is taken from it. `cause` is the event or request it follows from.
 */
export function createEvent<T extends EventType>(
  type: T,
  payload: EventPayloadInput<T>,
  cause?: NewEvent<unknown>['cause'],
  now?: Date,
): DomainEvent<T> {
  const contract = eventContracts[type] as unknown as EventContract;
  const parsed = contract.schema.safeParse(payload);
  if (!parsed.success) throw new EventContractError(`${type} v${contract.version}: ${describeIssues(parsed.error)}`);
  return createEnvelope(
    { type, version: contract.version, aggregateId: contract.aggregateId(parsed.data), payload: parsed.data, cause },
    now,
  ) as DomainEvent<T>;
}

/**
 * Reads an event as a consumer sees it: checks the envelope, checks the payload against the schema of
 * its own version, upcasts it step by step to the current version, checks that, and checks that the
 * aggregate id matches the payload. Throws EventContractError (never retried: the message is poison).
 */
export function readEvent(raw: unknown, registry: EventRegistry = eventContracts): DomainEvent {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) throw new EventContractError(`invalid envelope: ${describeIssues(envelope.error)}`);
  const { type, version } = envelope.data;
  const contract = contractOf(type, registry);
  if (!contract) throw new EventContractError(`unknown event type ${JSON.stringify(type)}`);
  if (version > contract.version) {
    throw new EventContractError(`${type} v${version} is newer than this service knows (v${contract.version})`);
  }
  let payload: unknown = envelope.data.payload;
  for (let v = version; v < contract.version; v++) {
    const previous = contract.previous[v];
    if (!previous) throw new EventContractError(`${type} v${v} has no upcaster`);
    const old = previous.schema.safeParse(payload);
    if (!old.success) throw new EventContractError(`${type} v${v}: ${describeIssues(old.error)}`);
    payload = previous.upcast(old.data as never);
  }
  const current = contract.schema.safeParse(payload);
  if (!current.success) {
    throw new EventContractError(
      `${type} v${version}${version < contract.version ? ` (upcast to v${contract.version})` : ''}: ${describeIssues(current.error)}`,
    );
  }
  const aggregateId = contract.aggregateId(current.data);
  if (aggregateId !== envelope.data.aggregateId) {
    throw new EventContractError(`${type}: aggregateId ${envelope.data.aggregateId} does not match the payload (${aggregateId})`);
  }
  return { ...envelope.data, version: contract.version, payload: current.data } as DomainEvent;
}

/** Parses a message body (JSON) and reads it with `readEvent`. */
export function decodeEvent(value: string | Buffer | null | undefined, registry: EventRegistry = eventContracts): DomainEvent {
  if (value === null || value === undefined) throw new EventContractError('empty message');
  let raw: unknown;
  try {
    raw = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    throw new EventContractError('message is not JSON');
  }
  return readEvent(raw, registry);
}

export function isEvent<T extends EventType>(envelope: EventEnvelope, type: T): envelope is DomainEvent<T> {
  return envelope.type === type;
}

export type EventHandlers = {
  [K in EventType]?: (event: DomainEvent<K>, delivery: DeliveryInfo) => Promise<void>;
};

/** One handler per event type for a subscription; types without a handler are skipped (acknowledged). */
export function onEvents(handlers: EventHandlers): EventHandler {
  return async (envelope, delivery) => {
    const handler = Object.hasOwn(handlers, envelope.type) ? handlers[envelope.type as EventType] : undefined;
    if (handler) await (handler as (event: EventEnvelope, delivery: DeliveryInfo) => Promise<void>)(envelope, delivery);
  };
}
