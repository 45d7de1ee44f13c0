import type { User } from '../domain/user.ts';
import type { UsersDependencies } from './dependencies.ts';

/** What a client keeps after login, register, refresh or a password change. */
export interface AuthSession {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  user: User;
}

export function newRefreshToken(deps: UsersDependencies) {
  const issuedAt = deps.clock.now();
  const { token, tokenHash } = deps.refreshTokens.generate();
  return {
    token,
    record: {
      id: deps.ids.newId(),
      tokenHash,
      issuedAt,
      expiresAt: new Date(issuedAt.getTime() + deps.refreshTokenTtlSeconds * 1000),
    },
  };
}

export function sessionFor(deps: UsersDependencies, user: User, refresh: ReturnType<typeof newRefreshToken>): AuthSession {
  const access = deps.accessTokens.issue({ userId: user.id, role: user.role });
  return {
    accessToken: access.token,
    accessTokenExpiresAt: access.expiresAt,
    refreshToken: refresh.token,
    refreshTokenExpiresAt: refresh.record.expiresAt,
    user,
  };
}

/** Starts a new session family for the user: an access token plus the family's first refresh token. */
export async function startSession(deps: UsersDependencies, user: User): Promise<AuthSession> {
  const refresh = newRefreshToken(deps);
  await deps.sessions.startFamily({ id: deps.ids.newId(), userId: user.id }, refresh.record);
  return sessionFor(deps, user, refresh);
}
