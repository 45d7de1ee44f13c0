import type { Caller, UsersDependencies } from './dependencies.ts';

/**
 * Ends the session (family) the refresh token belongs to. Answers the same whether or not the token is
 * known, so it cannot be used to probe tokens. Access tokens already issued run out on their own (≤ 15 min).
 */
export async function logOut(deps: UsersDependencies, caller: Caller, refreshToken: string): Promise<true> {
  const stored = await deps.sessions.findByTokenHash(deps.refreshTokens.fingerprint(refreshToken));
  if (stored && !stored.familyRevokedAt) {
    await deps.sessions.revokeFamily(stored.familyId, 'logout');
    caller.log.info({ userId: stored.userId, sessionId: stored.familyId }, 'logged out');
  }
  return true;
}
