import { createEnvelope } from '@commerce/events';
import { checkPasswordPolicy } from '../domain/password-policy.ts';
import { USER_REGISTERED, type UserRegisteredPayload } from '../domain/events.ts';
import { validEmail, validName, type Role, type User } from '../domain/user.ts';
import type { AccountDependencies } from './dependencies.ts';

export interface NewAccount {
  email: string;
  password: string;
  name: string;
  role: Role;
  /** Fixed ids for demo accounts; otherwise generated. */
  id?: string;
  correlationId?: string;
}

/**
 * Validates and stores an account with its UserRegistered event (outbox, same transaction). Shared by
 * public registration (always CUSTOMER) and the operator's create-admin command.
 */
export async function createAccount(deps: AccountDependencies, account: NewAccount): Promise<User> {
  const email = validEmail(account.email);
  const name = validName(account.name);
  checkPasswordPolicy(account.password, { email, name });
  const passwordHash = await deps.hasher.hash(account.password);
  const id = account.id ?? deps.ids.newId();
  const payload: UserRegisteredPayload = {
    userId: id,
    email,
    name,
    role: account.role,
    registeredAt: deps.clock.now().toISOString(),
  };
  const event = createEnvelope(
    {
      type: USER_REGISTERED,
      aggregateId: id,
      payload,
      ...(account.correlationId ? { cause: { correlationId: account.correlationId } } : {}),
    },
    deps.clock.now(),
  );
  return deps.users.create({ id, email, name, role: account.role, passwordHash }, [event]);
}
