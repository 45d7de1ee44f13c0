/**
 * Input checks at the edge of the hexagon: every use case parses its raw input with these before
 * touching a port. A problem is a BAD_USER_INPUT error whose `extensions.field` names the input field.
 */
import { badInput, isUuid, refuseCardNumbers, uuidArgument } from '@commerce/platform';
import type { ProductAttribute, ProductImage } from '../domain/product.ts';
import { CURRENCY_PATTERN, LIMITS, SKU_PATTERN, SLUG_PATTERN } from '../domain/rules.ts';

type Maybe<T> = T | null | undefined;

export function text(field: string, value: Maybe<string>, max: number, { required = true } = {}): string {
  const trimmed = (value ?? '').trim();
  if (required && trimmed.length === 0) throw badInput(field, `${field} must not be empty`);
  if (trimmed.length > max) throw badInput(field, `${field} must be at most ${max} characters`);
  return trimmed;
}

/**
 * Text people type that the catalog stores (names, descriptions, attributes, reasons): catalog text is
 * public and travels in events, so a card number pasted into it is refused. Ids and searches use `text`.
 */
export function freeText(field: string, value: Maybe<string>, max: number, options: { required?: boolean } = {}): string {
  const checked = text(field, value, max, options);
  refuseCardNumbers({ [field]: checked });
  return checked;
}

export function slug(field: string, value: Maybe<string>): string {
  const candidate = (value ?? '').trim();
  if (!SLUG_PATTERN.test(candidate) || candidate.length > LIMITS.slugMaxLength) {
    throw badInput(
      field,
      `${field} must be lower-case letters and digits in dash-separated words (at most ${LIMITS.slugMaxLength} characters)`,
    );
  }
  refuseCardNumbers({ [field]: candidate });
  return candidate;
}

export function sku(field: string, value: Maybe<string>): string {
  const candidate = (value ?? '').trim();
  if (!SKU_PATTERN.test(candidate) || candidate.length > LIMITS.skuMaxLength) {
    throw badInput(field, `${field} must be letters, digits, '.', '_' or '-' (at most ${LIMITS.skuMaxLength} characters)`);
  }
  refuseCardNumbers({ [field]: candidate });
  return candidate;
}

export function priceCents(field: string, value: Maybe<number>): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > LIMITS.maxPriceCents) {
    throw badInput(field, `${field} must be a whole number of cents between 0 and ${LIMITS.maxPriceCents}`);
  }
  return value;
}

export function currency(field: string, value: Maybe<string>): string {
  const candidate = (value ?? '').trim();
  if (!CURRENCY_PATTERN.test(candidate)) throw badInput(field, `${field} must be a three-letter ISO 4217 code such as USD`);
  return candidate;
}

export function integer(field: string, value: Maybe<number>, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badInput(field, `${field} must be a whole number between ${min} and ${max}`);
  }
  return value;
}

// The id rule is shared by every subgraph (packages/platform); re-exported so use cases keep one import.
export { isUuid };

export function uuid(field: string, value: Maybe<string>): string {
  return uuidArgument(field, value);
}

export function images(field: string, value: Maybe<readonly Maybe<ProductImage>[]>): ProductImage[] {
  const list = value ?? [];
  if (list.length > LIMITS.maxImages) throw badInput(field, `at most ${LIMITS.maxImages} images`);
  return list.map((image, index) => {
    const at = `${field}[${index}]`;
    const url = freeText(`${at}.url`, image?.url, LIMITS.imageUrlMaxLength);
    if (!isHttpUrl(url)) throw badInput(`${at}.url`, `${at}.url must be an http(s) URL`);
    return { url, alt: freeText(`${at}.alt`, image?.alt, LIMITS.imageAltMaxLength, { required: false }) };
  });
}

export function attributes(field: string, value: Maybe<readonly Maybe<ProductAttribute>[]>): ProductAttribute[] {
  const list = value ?? [];
  if (list.length > LIMITS.maxAttributes) throw badInput(field, `at most ${LIMITS.maxAttributes} attributes`);
  const seen = new Set<string>();
  return list.map((attribute, index) => {
    const at = `${field}[${index}]`;
    const name = freeText(`${at}.name`, attribute?.name, LIMITS.attributeNameMaxLength);
    if (seen.has(name.toLowerCase())) throw badInput(`${at}.name`, `attribute "${name}" appears twice`);
    seen.add(name.toLowerCase());
    return { name, value: freeText(`${at}.value`, attribute?.value, LIMITS.attributeValueMaxLength) };
  });
}

/** Explicit null on a field that cannot be cleared (GraphQL allows it on optional input fields). */
export function notNull<T>(field: string, value: T | null): T {
  if (value === null) throw badInput(field, `${field} cannot be null`);
  return value;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
