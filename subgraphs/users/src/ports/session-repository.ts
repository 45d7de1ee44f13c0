import type { SessionRevocationReason, StoredRefreshToken } from '../domain/session.ts';

export interface NewRefreshToken {
  id: string;
  /** SHA-256 of the opaque token; the token itself is never stored. */
  tokenHash: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface SessionRepository {
  startFamily(family: { id: string; userId: string }, firstToken: NewRefreshToken): Promise<void>;
  findByTokenHash(tokenHash: string): Promise<StoredRefreshToken | null>;
  /**
   * Atomically marks `currentTokenId` rotated and stores its successor. Returns false — storing nothing —
   * when the token was rotated meanwhile (a concurrent use of the same token) or its family was revoked.
   */
  rotate(currentTokenId: string, familyId: string, next: NewRefreshToken): Promise<boolean>;
  revokeFamily(familyId: string, reason: SessionRevocationReason): Promise<void>;
}
