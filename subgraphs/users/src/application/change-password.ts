import { addressKey, badInput, requireViewer, unauthenticated } from '@commerce/platform';
import { checkPasswordPolicy } from '../domain/password-policy.ts';
import type { Caller, UsersDependencies } from './dependencies.ts';
import { attemptFields, enforceVerdict } from './login-audit.ts';
import { startSession, type AuthSession } from './start-session.ts';

export interface ChangePasswordInput {
  currentPassword: string;
  newPassword: string;
}

/**
 * Needs the current password (a stolen access token alone cannot take over the account), is throttled like
 * login, revokes every session of the user and returns a fresh pair for the caller.
 */
export async function changePassword(deps: UsersDependencies, caller: Caller, input: ChangePasswordInput): Promise<AuthSession> {
  const viewer = requireViewer(caller.viewer);
  const user = await deps.users.findById(viewer.userId);
  const passwordHash = user ? await deps.users.findPasswordHash(user.id) : null;
  if (!user || !passwordHash) throw unauthenticated();

  const keys = { account: user.email, ip: caller.clientIp === undefined ? undefined : addressKey(caller.clientIp) };
  enforceVerdict(caller, keys, await deps.throttle.beginAttempt(keys), 'password change');
  if (!(await deps.hasher.verify(passwordHash, input.currentPassword))) {
    await deps.throttle.attemptFailed(keys);
    caller.log.info({ ...attemptFields(keys), userId: user.id }, 'password change refused: wrong current password');
    throw badInput('currentPassword', 'Current password is incorrect');
  }
  await deps.throttle.attemptSucceeded(keys);

  checkPasswordPolicy(input.newPassword, { email: user.email, name: user.name }, 'newPassword');
  if (input.newPassword === input.currentPassword) throw badInput('newPassword', 'New password must differ from the current one');
  await deps.users.changePassword(user.id, await deps.hasher.hash(input.newPassword));
  caller.log.info({ userId: user.id }, 'password changed: all sessions revoked');
  return startSession(deps, user);
}
