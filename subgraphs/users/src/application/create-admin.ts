import { normalizeEmail, type User } from '../domain/user.ts';
import type { AccountDependencies } from './dependencies.ts';
import { createAccount } from './create-account.ts';

export interface CreateAdminInput {
  email: string;
  name: string;
  /** Asked only when the account does not exist yet (the CLI prompts for it). */
  password: () => Promise<string>;
}

/**
 * The operator's way to the first admin (the public API only ever creates customers): creates an ADMIN
 * account, or promotes an existing account with that email (its password is left unchanged).
 */
export async function createAdmin(deps: AccountDependencies, input: CreateAdminInput): Promise<{ user: User; created: boolean }> {
  const existing = await deps.users.findCredentialsByEmail(normalizeEmail(input.email));
  if (existing) {
    const promoted = existing.user.role === 'ADMIN' ? existing.user : await deps.users.updateRole(existing.user.id, 'ADMIN');
    return { user: promoted ?? existing.user, created: false };
  }
  const user = await createAccount(deps, {
    email: input.email,
    name: input.name,
    password: await input.password(),
    role: 'ADMIN',
  });
  return { user, created: true };
}
