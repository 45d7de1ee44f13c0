import type { Address, AddressFields } from '../domain/address.ts';

export interface AddressRepository {
  /** Every address of these users, each user's default first, then oldest first. */
  listByUserIds(userIds: readonly string[]): Promise<Address[]>;
  findById(id: string): Promise<Address | null>;
  countByUser(userId: string): Promise<number>;
  /** `makeDefault` also points the user's default at the new address, in the same transaction. */
  add(address: AddressFields & { id: string; userId: string }, makeDefault: boolean): Promise<Address>;
  update(id: string, fields: AddressFields): Promise<Address>;
  /** Removes the address; when it was the default, the newest remaining one becomes the default. */
  remove(id: string): Promise<void>;
  setDefault(userId: string, addressId: string): Promise<void>;
}
