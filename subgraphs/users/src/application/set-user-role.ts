import { forbidden, notFound, requireAdmin } from '@commerce/platform';
import type { Role, User } from '../domain/user.ts';
import type { Caller, UsersDependencies } from './dependencies.ts';

/**
 * Admin only. An admin cannot change their own role, so the last admin cannot lock everyone out.
 * The new role reaches the user's tokens at their next refresh (access tokens live 15 minutes).
 */
export async function setUserRole(deps: UsersDependencies, caller: Caller, userId: string, role: Role): Promise<User> {
  const admin = requireAdmin(caller.viewer);
  if (admin.userId === userId) throw forbidden('Admins cannot change their own role');
  const user = await deps.users.updateRole(userId, role);
  if (!user) throw notFound('User');
  caller.log.info({ userId, role, by: admin.userId }, 'user role changed');
  return user;
}
