import { canAccessUserData, type ResolverMap, type SubgraphContextBase } from '@commerce/platform';
import type { Address, AddressInput, AddressPatch } from '../../domain/address.ts';
import type { Role, User } from '../../domain/user.ts';
import type { Caller, UsersDependencies } from '../../application/dependencies.ts';
import type { AuthSession } from '../../application/start-session.ts';
import { registerUser, type RegisterInput } from '../../application/register-user.ts';
import { logIn, type LogInInput } from '../../application/log-in.ts';
import { refreshSession } from '../../application/refresh-session.ts';
import { logOut } from '../../application/log-out.ts';
import { updateProfile, type ProfileChanges } from '../../application/update-profile.ts';
import { changePassword, type ChangePasswordInput } from '../../application/change-password.ts';
import { addAddress, removeAddress, setDefaultAddress, updateAddress } from '../../application/manage-addresses.ts';
import { listUsers, type ListUsersInput } from '../../application/list-users.ts';
import { setUserRole } from '../../application/set-user-role.ts';
import type { UsersLoaders } from './loaders.ts';

export interface UsersContext extends SubgraphContextBase {
  deps: UsersDependencies;
  loaders: UsersLoaders;
}

const callerOf = (context: UsersContext): Caller => ({
  viewer: context.viewer,
  clientIp: context.clientIp,
  correlationId: context.request.requestId,
  log: context.logger,
});

/**
 * The user objects handed out in an AuthPayload: the caller just proved to be that user (login, register),
 * though the request itself carried no token. Per object, so nothing leaks to other requests.
 */
const sessionOwners = new WeakSet<User>();

/** Field-level authorization: private fields resolve to null for anyone but the user and admins. */
const privateField =
  <Value>(read: (user: User, context: UsersContext) => Value | Promise<Value>) =>
  (user: User, _args: unknown, context: UsersContext): Value | null | Promise<Value | null> =>
    canAccessUserData(context.viewer, user.id) || sessionOwners.has(user) ? read(user, context) : null;

const authPayload = (session: AuthSession) => {
  sessionOwners.add(session.user);
  return {
    accessToken: session.accessToken,
    tokenType: 'Bearer',
    accessTokenExpiresAt: session.accessTokenExpiresAt.toISOString(),
    refreshToken: session.refreshToken,
    refreshTokenExpiresAt: session.refreshTokenExpiresAt.toISOString(),
    user: session.user,
  };
};

export const resolvers: ResolverMap = {
  Query: {
    me: (_root: unknown, _args: unknown, context: UsersContext) =>
      context.viewer ? context.loaders.userById.load(context.viewer.userId) : null,
    users: (_root: unknown, args: ListUsersInput, context: UsersContext) => listUsers(context.deps, callerOf(context), args),
  },
  Mutation: {
    register: async (_root: unknown, args: RegisterInput, context: UsersContext) =>
      authPayload(await registerUser(context.deps, callerOf(context), args)),
    login: async (_root: unknown, args: LogInInput, context: UsersContext) =>
      authPayload(await logIn(context.deps, callerOf(context), args)),
    refreshToken: async (_root: unknown, args: { refreshToken: string }, context: UsersContext) =>
      authPayload(await refreshSession(context.deps, callerOf(context), args.refreshToken)),
    logout: (_root: unknown, args: { refreshToken: string }, context: UsersContext) =>
      logOut(context.deps, callerOf(context), args.refreshToken),
    updateProfile: (_root: unknown, args: { input: ProfileChanges }, context: UsersContext) =>
      updateProfile(context.deps, callerOf(context), args.input),
    changePassword: async (_root: unknown, args: ChangePasswordInput, context: UsersContext) =>
      authPayload(await changePassword(context.deps, callerOf(context), args)),
    addAddress: (_root: unknown, args: { input: AddressInput }, context: UsersContext) =>
      addAddress(context.deps, callerOf(context), args.input),
    updateAddress: (_root: unknown, args: { id: string; input: AddressPatch }, context: UsersContext) =>
      updateAddress(context.deps, callerOf(context), args.id, args.input),
    removeAddress: (_root: unknown, args: { id: string }, context: UsersContext) =>
      removeAddress(context.deps, callerOf(context), args.id),
    setDefaultAddress: (_root: unknown, args: { id: string }, context: UsersContext) =>
      setDefaultAddress(context.deps, callerOf(context), args.id),
    setUserRole: (_root: unknown, args: { userId: string; role: Role }, context: UsersContext) =>
      setUserRole(context.deps, callerOf(context), args.userId, args.role),
  },
  User: {
    __resolveReference: (reference: { id: string }, context: UsersContext) => context.loaders.userById.load(reference.id),
    email: privateField((user) => user.email),
    role: privateField((user) => user.role),
    addresses: privateField((user, context) => context.loaders.addressesByUserId.load(user.id)),
    defaultAddress: privateField(
      async (user, context) =>
        (await context.loaders.addressesByUserId.load(user.id)).find((address) => address.isDefault) ?? null,
    ),
    createdAt: (user: User) => user.createdAt.toISOString(),
  },
  Address: {
    isDefault: (address: Address) => address.isDefault,
  },
};
