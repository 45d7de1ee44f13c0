import type { EventEnvelope } from '@commerce/events';
import type { Role, User } from '../domain/user.ts';

export interface NewUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string;
}

/** Position of a user in the admin listing (newest first, id breaks ties). */
export interface UserCursor {
  createdAt: string;
  id: string;
}

export interface UserFilter {
  search?: string | null;
  role?: Role | null;
}

export interface UserPageQuery {
  limit: number;
  after: UserCursor | null;
  filter: UserFilter;
}

export interface UserRepository {
  /** Inserts the user and appends `events` to the outbox in one transaction; CONFLICT when the email is taken. */
  create(user: NewUser, events: EventEnvelope[]): Promise<User>;
  findById(id: string): Promise<User | null>;
  findByIds(ids: readonly string[]): Promise<User[]>;
  /** The only read that returns a password hash: login and password checks need it, nothing else does. */
  findCredentialsByEmail(email: string): Promise<{ user: User; passwordHash: string } | null>;
  findPasswordHash(userId: string): Promise<string | null>;
  updateName(userId: string, name: string): Promise<User>;
  /** Replaces the hash as-is (rehash after a parameter upgrade); sessions are untouched. */
  updatePasswordHash(userId: string, passwordHash: string): Promise<void>;
  /** A new password: stores the hash and revokes every session of the user in the same transaction. */
  changePassword(userId: string, passwordHash: string): Promise<void>;
  updateRole(userId: string, role: Role): Promise<User | null>;
  list(query: UserPageQuery): Promise<User[]>;
  count(filter: UserFilter): Promise<number>;
}
