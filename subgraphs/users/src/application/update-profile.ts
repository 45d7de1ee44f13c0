import { requireViewer, unauthenticated } from '@commerce/platform';
import { validName, type User } from '../domain/user.ts';
import type { Caller, UsersDependencies } from './dependencies.ts';

export interface ProfileChanges {
  name?: string | null;
}

export async function updateProfile(deps: UsersDependencies, caller: Caller, changes: ProfileChanges): Promise<User> {
  const viewer = requireViewer(caller.viewer);
  const user = await deps.users.findById(viewer.userId);
  if (!user) throw unauthenticated();
  if (changes.name === undefined || changes.name === null) return user;
  return deps.users.updateName(user.id, validName(changes.name));
}
