export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  newId(): string;
}

/** Structured audit lines (the service logger satisfies it). Callers pass ids, never secrets. */
export interface AuditLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}
