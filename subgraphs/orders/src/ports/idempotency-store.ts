/** What a checkout request with an idempotency key left behind (one per user and key). */
export interface IdempotencyRecord {
  userId: string;
  key: string;
  operation: string;
  /** SHA-256 of the request (operation, arguments and the lines ordered). */
  fingerprint: string;
  status: 'IN_PROGRESS' | 'COMPLETED';
  orderId: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface IdempotencyStore {
  /**
   * Claims the key for this request. Returns false when the key is already taken (by a record that has not
   * expired by `now`; an expired one is replaced). Inside a transaction a concurrent claim of the same key
   * waits until the first one commits or rolls back (unique constraint). Forgets the user's other keys that
   * expired by `now`, so the store stays small.
   */
  claim(record: IdempotencyRecord, now: Date): Promise<boolean>;
  find(userId: string, key: string): Promise<IdempotencyRecord | null>;
  complete(userId: string, key: string, fingerprint: string, orderId: string): Promise<void>;
}
