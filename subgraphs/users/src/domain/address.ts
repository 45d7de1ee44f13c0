import { badInput, refuseCardNumbers } from '@commerce/platform';

export interface AddressFields {
  label: string | null;
  recipientName: string;
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string;
  /** ISO 3166-1 alpha-2, upper-case. */
  country: string;
  phone: string | null;
}

export interface Address extends AddressFields {
  id: string;
  userId: string;
  isDefault: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A cap that keeps one account's address book (and its listing) bounded. */
export const MAX_ADDRESSES_PER_USER = 20;

type RequiredField = 'recipientName' | 'line1' | 'city' | 'postalCode' | 'country';
type OptionalField = Exclude<keyof AddressFields, RequiredField>;

const LIMITS: Record<keyof AddressFields, number> = {
  label: 40,
  recipientName: 100,
  line1: 200,
  line2: 200,
  city: 100,
  region: 100,
  postalCode: 20,
  country: 2,
  phone: 30,
};

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

function requiredText(field: RequiredField, value: string | null | undefined): string {
  const text = value?.trim() ?? '';
  if (!text) throw badInput(field, `${field} is required`);
  return checkedText(field, text);
}

function optionalText(field: OptionalField, value: string | null | undefined): string | null {
  const text = value?.trim() ?? '';
  return text ? checkedText(field, text) : null;
}

function checkedText(field: keyof AddressFields, text: string): string {
  if ([...text].length > LIMITS[field]) throw badInput(field, `${field} must be at most ${LIMITS[field]} characters`);
  if (CONTROL_CHARACTERS.test(text)) throw badInput(field, `${field} contains characters that are not allowed`);
  if (field === 'country' && !/^[A-Z]{2}$/.test(text.toUpperCase())) {
    throw badInput('country', 'country must be a two-letter ISO 3166-1 code, e.g. US');
  }
  if (field === 'phone' && !/^\+?[\d ()./-]{4,30}$/.test(text)) throw badInput('phone', 'phone is not a valid phone number');
  // Addresses are copied onto orders and shown to staff: no card number may ride along in any line.
  refuseCardNumbers({ [field]: text });
  return field === 'country' ? text.toUpperCase() : text;
}

export type AddressInput = { [K in RequiredField]: string } & { [K in OptionalField]?: string | null };
export type AddressPatch = { [K in keyof AddressFields]?: string | null };

/** Validates and normalizes a new address (trimmed, empty optional fields become null). */
export function validAddress(input: AddressInput): AddressFields {
  return {
    label: optionalText('label', input.label),
    recipientName: requiredText('recipientName', input.recipientName),
    line1: requiredText('line1', input.line1),
    line2: optionalText('line2', input.line2),
    city: requiredText('city', input.city),
    region: optionalText('region', input.region),
    postalCode: requiredText('postalCode', input.postalCode),
    country: requiredText('country', input.country),
    phone: optionalText('phone', input.phone),
  };
}

/** Applies a patch: an omitted field keeps its value, null clears an optional one (required ones refuse it). */
export function patchedAddress(current: AddressFields, patch: AddressPatch): AddressFields {
  const merged: AddressInput = { ...current };
  for (const [field, value] of Object.entries(patch) as [keyof AddressFields, string | null | undefined][]) {
    if (value !== undefined) (merged as Record<string, string | null>)[field] = value;
  }
  return validAddress(merged);
}
