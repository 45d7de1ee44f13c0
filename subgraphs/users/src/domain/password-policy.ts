import { badInput } from '@commerce/platform';

export const PASSWORD_MIN_LENGTH = 10;
/** Long enough for any passphrase; bounds the work one request can ask of the hasher. */
export const PASSWORD_MAX_LENGTH = 128;

// The handful of passwords that satisfy the length rule and top every breach list.
const COMMON_PASSWORDS = new Set([
  '1234567890',
  '12345678910',
  '0123456789',
  '1111111111',
  'qwertyuiop',
  'password12',
  'password123',
  'password1234',
  'passwordpassword',
  'iloveyou123',
  'abcdefghij',
  'letmein123',
  'welcome123',
  'qwerty1234',
  'qwerty123456',
  'administrator',
  'changeme123',
]);

export interface PasswordContext {
  email?: string;
  name?: string;
}

/**
 * The minimum policy (NIST SP 800-63B style): length rather than composition rules, and no password
 * that is trivially guessable from the account or from breach lists. Throws BAD_USER_INPUT on `field`.
 */
export function checkPasswordPolicy(password: string, context: PasswordContext = {}, field = 'password'): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) throw badInput(field, `Password must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if (length > PASSWORD_MAX_LENGTH) throw badInput(field, `Password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  const lower = password.toLowerCase();
  if (new Set(lower).size < 3) throw badInput(field, 'Password is too easy to guess');
  if (COMMON_PASSWORDS.has(lower)) throw badInput(field, 'Password is too common');
  const guessable = [context.email, context.email?.split('@')[0], context.name]
    .map((value) => value?.trim().toLowerCase())
    .filter((value): value is string => !!value && value.length >= 4);
  if (guessable.some((value) => lower === value || lower.includes(value))) {
    throw badInput(field, 'Password must not contain your email or name');
  }
}
