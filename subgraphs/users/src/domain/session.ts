/**
 * Refresh-token sessions. A login starts a family; each refresh replaces the family's current token
 * with a new one (rotation). A token that was already rotated and shows up again means two parties
 * hold it — one of them stole it — so the whole family is revoked and both must log in again.
 */
export interface StoredRefreshToken {
  id: string;
  familyId: string;
  userId: string;
  expiresAt: Date;
  /** When this token was exchanged for its successor; null while it is the family's current token. */
  rotatedAt: Date | null;
  familyRevokedAt: Date | null;
}

export type RefreshDecision = 'rotate' | 'reuse' | 'expired' | 'revoked';

export type SessionRevocationReason = 'logout' | 'reuse' | 'password_changed';

export function decideRefresh(token: StoredRefreshToken, now: Date): RefreshDecision {
  if (token.familyRevokedAt) return 'revoked';
  // Checked before expiry: an old rotated token is a theft signal even after it would have expired.
  if (token.rotatedAt) return 'reuse';
  if (token.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'rotate';
}
