import DataLoader from 'dataloader';
import type { Address } from '../../domain/address.ts';
import type { User } from '../../domain/user.ts';
import type { AddressRepository } from '../../ports/address-repository.ts';
import type { UserRepository } from '../../ports/user-repository.ts';

/** DataLoaders live for one request: batching (federation entity lookups included) without sharing data across viewers. */
export function createUsersLoaders(users: UserRepository, addresses: AddressRepository) {
  return {
    userById: new DataLoader<string, User | null>(async (ids) => {
      const found = new Map((await users.findByIds(ids)).map((user) => [user.id, user]));
      return ids.map((id) => found.get(id) ?? null);
    }),
    addressesByUserId: new DataLoader<string, Address[]>(async (userIds) => {
      const byUser = new Map<string, Address[]>(userIds.map((id) => [id, []]));
      for (const address of await addresses.listByUserIds(userIds)) byUser.get(address.userId)?.push(address);
      return userIds.map((id) => byUser.get(id) ?? []);
    }),
  };
}

export type UsersLoaders = ReturnType<typeof createUsersLoaders>;
