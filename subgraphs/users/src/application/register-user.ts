import type { Caller, UsersDependencies } from './dependencies.ts';
import { createAccount } from './create-account.ts';
import { startSession, type AuthSession } from './start-session.ts';

export interface RegisterInput {
  email: string;
  password: string;
  name: string;
}

/** Public sign-up: always a CUSTOMER (admins come only from the create-admin command), signed in at once. */
export async function registerUser(deps: UsersDependencies, caller: Caller, input: RegisterInput): Promise<AuthSession> {
  const user = await createAccount(deps, { ...input, role: 'CUSTOMER', correlationId: caller.correlationId });
  caller.log.info({ userId: user.id }, 'user registered');
  return startSession(deps, user);
}
