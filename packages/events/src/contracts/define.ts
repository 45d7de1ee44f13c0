import type { z } from 'zod';
import { PermanentEventError } from '../bus.ts';

/** The event could not be read: malformed, an unknown type or version, or a payload that breaks its contract. */
export class EventContractError extends PermanentEventError {
  constructor(message: string) {
    super(message);
    this.name = 'EventContractError';
  }
}

/** An older version of an event's payload and how to lift it to the next version. */
export interface PreviousVersion {
  schema: z.ZodType;
  /** Receives a payload valid for `schema`; returns a payload of the next version. */
  upcast(payload: never): unknown;
}

export interface EventContract<Type extends string = string, Schema extends z.ZodType = z.ZodType> {
  type: Type;
  /** The producing context's topic. */
  topic: string;
  /** The version producers write today. */
  version: number;
  schema: Schema;
  /** The Kafka key: one aggregate's events stay in one partition, in order. */
  aggregateId(payload: z.output<Schema>): string;
  /** Versions 1..version-1, each with its upcaster to the next version. */
  previous: Record<number, PreviousVersion>;
}

export function defineEvent<const Type extends string, Schema extends z.ZodType>(
  type: Type,
  definition: Omit<EventContract<Type, Schema>, 'type' | 'previous' | 'version'> & {
    version?: number;
    previous?: Record<number, PreviousVersion>;
  },
): EventContract<Type, Schema> {
  const version = definition.version ?? 1;
  const previous = definition.previous ?? {};
  for (let v = 1; v < version; v++) {
    if (!previous[v]) throw new Error(`${type} v${version} needs an upcaster from v${v}`);
  }
  return { ...definition, type, version, previous };
}

/** Typed helper for an upcaster: `payload` is what the old schema parsed. */
export function previousVersion<Schema extends z.ZodType>(
  schema: Schema,
  upcast: (payload: z.output<Schema>) => unknown,
): PreviousVersion {
  return { schema, upcast: upcast as (payload: never) => unknown };
}

/** Human-readable summary of a zod failure, for DLQ headers and logs (paths and messages, never values). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
