import { addressKey, unauthenticated } from '@commerce/platform';
import { normalizeEmail } from '../domain/user.ts';
import type { Caller, UsersDependencies } from './dependencies.ts';
import { attemptFields, enforceVerdict } from './login-audit.ts';
import { startSession, type AuthSession } from './start-session.ts';

export interface LogInInput {
  email: string;
  password: string;
}

/** One message for every failure, so the answer never tells whether an account exists. */
export const INVALID_CREDENTIALS = 'Invalid email or password';

export async function logIn(deps: UsersDependencies, caller: Caller, input: LogInInput): Promise<AuthSession> {
  const email = normalizeEmail(input.email);
  const keys = { account: email, ip: caller.clientIp === undefined ? undefined : addressKey(caller.clientIp) };
  enforceVerdict(caller, keys, await deps.throttle.beginAttempt(keys), 'login');

  const credentials = await deps.users.findCredentialsByEmail(email);
  let passwordMatches = false;
  if (credentials) {
    passwordMatches = await deps.hasher.verify(credentials.passwordHash, input.password);
  } else {
    // Same work as a real check: response time must not reveal that the email is unknown.
    await deps.hasher.verifyAgainstDummy(input.password);
  }
  if (!credentials || !passwordMatches) {
    await deps.throttle.attemptFailed(keys);
    caller.log.info(
      {
        ...attemptFields(keys),
        userId: credentials?.user.id ?? null,
        reason: credentials ? 'wrong_password' : 'unknown_account',
      },
      'login failed',
    );
    throw unauthenticated(INVALID_CREDENTIALS);
  }

  await deps.throttle.attemptSucceeded(keys);
  if (deps.hasher.needsRehash(credentials.passwordHash)) {
    await deps.users.updatePasswordHash(credentials.user.id, await deps.hasher.hash(input.password));
  }
  caller.log.info({ userId: credentials.user.id }, 'login succeeded');
  return startSession(deps, credentials.user);
}
