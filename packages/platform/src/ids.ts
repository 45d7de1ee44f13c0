import { badInput } from './errors.ts';

/** Every entity id in the graph is a UUID (any version; either case). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_PATTERN.test(value);

/**
 * An `ID` argument a client typed (`product(id:)`, `category(id:)`): something that is not a UUID is a
 * client mistake worth saying so (BAD_USER_INPUT naming the argument), never a silent null, and it never
 * reaches a uuid column. Returns the id in lower case, as stored.
 */
export function uuidArgument(field: string, value: unknown): string {
  if (!isUuid(value)) throw badInput(field, `${field} is not a valid id (a UUID)`);
  return value.toLowerCase();
}
