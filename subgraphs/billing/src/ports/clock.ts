import { randomUUID } from 'node:crypto';

/** Small ports the use cases take instead of reaching for globals, so tests control them. */
export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  newId(): string;
}

export const systemClock: Clock = { now: () => new Date() };

export const uuidGenerator: IdGenerator = { newId: () => randomUUID() };
