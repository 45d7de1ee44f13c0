import type { User } from '../src/domain/user.ts';
import type { AddressRepository } from '../src/ports/address-repository.ts';
import type { UserRepository } from '../src/ports/user-repository.ts';
import { createUsersLoaders } from '../src/adapters/graphql/loaders.ts';

const user = (id: string): User => ({
  id,
  email: `${id}@example.com`,
  name: id,
  role: 'CUSTOMER',
  defaultAddressId: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

describe('per-request loaders (the batched User reference resolver)', () => {
  it('answers every entity reference of one query plan with one repository call, in the asked order', async () => {
    const calls: (readonly string[])[] = [];
    const users = {
      findByIds: async (ids: readonly string[]) => {
        calls.push(ids);
        return ids
          .filter((id) => id !== 'missing')
          .reverse()
          .map(user);
      },
    } as Partial<UserRepository> as UserRepository;
    const loaders = createUsersLoaders(users, {} as AddressRepository);
    const found = await Promise.all(['b', 'missing', 'a', 'b'].map((id) => loaders.userById.load(id)));
    expect(calls).toEqual([['b', 'missing', 'a']]);
    expect(found.map((entry) => entry?.id ?? null)).toEqual(['b', null, 'a', 'b']);
  });

  it('groups addresses by user with one query for many users', async () => {
    const calls: (readonly string[])[] = [];
    const addresses = {
      listByUserIds: async (ids: readonly string[]) => {
        calls.push(ids);
        return [
          { id: 'x', userId: 'a' },
          { id: 'y', userId: 'b' },
          { id: 'z', userId: 'a' },
        ];
      },
    } as unknown as AddressRepository;
    const loaders = createUsersLoaders({} as UserRepository, addresses);
    const lists = await Promise.all(['a', 'b', 'c'].map((id) => loaders.addressesByUserId.load(id)));
    expect(calls).toHaveLength(1);
    expect(lists.map((list) => list.map((address) => address.id))).toEqual([['x', 'z'], ['y'], []]);
  });
});
