export interface IdGenerator {
  /** A new globally unique id (a UUID). */
  next(): string;
}
