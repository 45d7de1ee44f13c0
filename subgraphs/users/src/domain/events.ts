import type { Role } from './user.ts';

export const USER_REGISTERED = 'UserRegistered';

/** Payload of `UserRegistered` (version 1) on the users topic. Never carries credentials. */
export interface UserRegisteredPayload {
  userId: string;
  email: string;
  name: string;
  role: Role;
  registeredAt: string;
}
