import { unauthenticated } from '@commerce/platform';
import { decideRefresh } from '../domain/session.ts';
import type { Caller, UsersDependencies } from './dependencies.ts';
import { newRefreshToken, sessionFor, type AuthSession } from './start-session.ts';

const INVALID_REFRESH_TOKEN = 'Invalid or expired refresh token';

/**
 * Exchanges a refresh token for a new pair (rotation). The new access token carries the user's current
 * role. Presenting a token that was already exchanged revokes its whole family (theft detection).
 */
export async function refreshSession(deps: UsersDependencies, caller: Caller, refreshToken: string): Promise<AuthSession> {
  const stored = await deps.sessions.findByTokenHash(deps.refreshTokens.fingerprint(refreshToken));
  if (!stored) throw unauthenticated(INVALID_REFRESH_TOKEN);

  const revokeForReuse = async () => {
    await deps.sessions.revokeFamily(stored.familyId, 'reuse');
    caller.log.warn({ userId: stored.userId, sessionId: stored.familyId }, 'refresh token reused: session revoked');
    return unauthenticated(INVALID_REFRESH_TOKEN);
  };

  const decision = decideRefresh(stored, deps.clock.now());
  if (decision === 'reuse') throw await revokeForReuse();
  if (decision !== 'rotate') throw unauthenticated(INVALID_REFRESH_TOKEN);

  const user = await deps.users.findById(stored.userId);
  if (!user) throw unauthenticated(INVALID_REFRESH_TOKEN);
  const next = newRefreshToken(deps);
  // Losing this race means another request rotated the same token first: that is reuse too.
  if (!(await deps.sessions.rotate(stored.id, stored.familyId, next.record))) throw await revokeForReuse();
  caller.log.info({ userId: user.id, sessionId: stored.familyId }, 'session refreshed');
  return sessionFor(deps, user, next);
}
