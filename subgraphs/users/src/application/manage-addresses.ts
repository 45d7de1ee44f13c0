import { conflict, notFound, requireViewer, type Viewer } from '@commerce/platform';
import {
  MAX_ADDRESSES_PER_USER,
  patchedAddress,
  validAddress,
  type Address,
  type AddressInput,
  type AddressPatch,
} from '../domain/address.ts';
import type { User } from '../domain/user.ts';
import type { Caller, UsersDependencies } from './dependencies.ts';

/** The viewer's own address; someone else's is reported as not found so ids cannot be probed. */
async function ownAddress(deps: UsersDependencies, viewer: Viewer, id: string): Promise<Address> {
  const address = await deps.addresses.findById(id);
  if (!address || address.userId !== viewer.userId) throw notFound('Address');
  return address;
}

/** Adds an address to the viewer's book; the first one becomes the default. */
export async function addAddress(deps: UsersDependencies, caller: Caller, input: AddressInput): Promise<Address> {
  const viewer = requireViewer(caller.viewer);
  const fields = validAddress(input);
  const existing = await deps.addresses.countByUser(viewer.userId);
  if (existing >= MAX_ADDRESSES_PER_USER) throw conflict(`An account can keep at most ${MAX_ADDRESSES_PER_USER} addresses`);
  return deps.addresses.add({ ...fields, id: deps.ids.newId(), userId: viewer.userId }, existing === 0);
}

export async function updateAddress(deps: UsersDependencies, caller: Caller, id: string, patch: AddressPatch): Promise<Address> {
  const viewer = requireViewer(caller.viewer);
  const address = await ownAddress(deps, viewer, id);
  return deps.addresses.update(address.id, patchedAddress(address, patch));
}

/** Removing the default promotes the newest remaining address. */
export async function removeAddress(deps: UsersDependencies, caller: Caller, id: string): Promise<true> {
  const viewer = requireViewer(caller.viewer);
  const address = await ownAddress(deps, viewer, id);
  await deps.addresses.remove(address.id);
  return true;
}

export async function setDefaultAddress(deps: UsersDependencies, caller: Caller, id: string): Promise<User> {
  const viewer = requireViewer(caller.viewer);
  const address = await ownAddress(deps, viewer, id);
  await deps.addresses.setDefault(viewer.userId, address.id);
  const user = await deps.users.findById(viewer.userId);
  if (!user) throw notFound('User');
  return user;
}
