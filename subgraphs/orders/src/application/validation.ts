import { badInput } from '@commerce/platform';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Order ids are UUIDs; anything else cannot name an order (and must not reach a uuid column). */
export const isUuid = (value: string) => UUID.test(value);

/** Keys are opaque to us; like payment APIs we accept any printable ASCII of a sensible length (a UUID fits). */
export function validateIdempotencyKey(key: string): string {
  if (!/^[\x21-\x7e]{8,255}$/.test(key)) {
    throw badInput('idempotencyKey', 'idempotencyKey must be 8 to 255 printable characters without spaces (a UUID works well)');
  }
  // Not scanned for card numbers: a key is an opaque identifier, and the scan refused one UUID key in ~4,000
  // (digit groups that happen to pass the checksum) — a random failure no client could understand.
  return key;
}

/** Payment methods belong to billing and addresses to users; here they are references that must look like ids. */
export function validateReference(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > 100) throw badInput(field, `${field} must be an id`);
  return trimmed;
}
