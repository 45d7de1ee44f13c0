import { badInput, decodeCursor, encodeCursor, pageSize, requireAdmin, toConnection, type Connection } from '@commerce/platform';
import { isRole, type User } from '../domain/user.ts';
import type { UserCursor, UserFilter } from '../ports/user-repository.ts';
import type { Caller, UsersDependencies } from './dependencies.ts';

export interface ListUsersInput {
  first?: number | null;
  after?: string | null;
  filter?: UserFilter | null;
}

const SEARCH_MAX_LENGTH = 100;

const isUserCursor = (value: unknown): value is UserCursor =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as UserCursor).id === 'string' &&
  typeof (value as UserCursor).createdAt === 'string' &&
  !Number.isNaN(Date.parse((value as UserCursor).createdAt));

const cursorOf = (user: User) => encodeCursor({ createdAt: user.createdAt.toISOString(), id: user.id });

/** Admin listing of every account, newest first. */
export async function listUsers(deps: UsersDependencies, caller: Caller, input: ListUsersInput): Promise<Connection<User>> {
  requireAdmin(caller.viewer);
  const size = pageSize(input.first);
  const after = input.after ? decodeCursor(input.after, isUserCursor) : null;
  const search = input.filter?.search?.trim() || null;
  if (search && search.length > SEARCH_MAX_LENGTH)
    throw badInput('filter.search', `search must be at most ${SEARCH_MAX_LENGTH} characters`);
  const role = input.filter?.role ?? null;
  if (role !== null && !isRole(role)) throw badInput('filter.role', 'Unknown role');
  const filter: UserFilter = { search, role };
  const rows = await deps.users.list({ limit: size + 1, after, filter });
  return toConnection(rows, size, cursorOf, () => deps.users.count(filter), after !== null);
}
