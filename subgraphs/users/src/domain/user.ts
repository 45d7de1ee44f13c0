/** Users domain: accounts and the rules for their fields. Pure TypeScript. */
import { badInput, refuseCardDigits, refuseCardNumbers, type Role } from '@commerce/platform';

export type { Role };

export const ROLES: readonly Role[] = ['CUSTOMER', 'ADMIN'];

export interface User {
  id: string;
  /** Normalized: trimmed and lower-case. */
  email: string;
  name: string;
  role: Role;
  defaultAddressId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const isRole = (value: unknown): value is Role => ROLES.includes(value as Role);

const EMAIL_MAX_LENGTH = 254; // RFC 5321 path limit
const EMAIL_SHAPE = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/** The form an email is stored and looked up in: one account per address regardless of case. */
export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** A normalized, plausibly deliverable address, or BAD_USER_INPUT. */
export function validEmail(raw: string): string {
  const email = normalizeEmail(raw);
  if (email.length > EMAIL_MAX_LENGTH || !EMAIL_SHAPE.test(email)) throw badInput('email', 'Enter a valid email address');
  // Stored, shown to staff and put in events: `4111111111111111@x.com` must not carry a card number there.
  refuseCardDigits('email', email);
  return email;
}

export const NAME_MAX_LENGTH = 100;

// Control characters (C0, DEL, C1) never belong in a display name.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

export function validName(raw: string): string {
  const name = raw.trim().replace(/\s+/g, ' ');
  if (name.length === 0) throw badInput('name', 'Name is required');
  if ([...name].length > NAME_MAX_LENGTH) throw badInput('name', `Name must be at most ${NAME_MAX_LENGTH} characters`);
  if (CONTROL_CHARACTERS.test(name)) throw badInput('name', 'Name contains characters that are not allowed');
  // The name is shown to others and published in events: a card number typed into it would leak there.
  refuseCardNumbers({ name });
  return name;
}
