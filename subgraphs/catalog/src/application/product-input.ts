/** Parsing of the product fields shared by createProduct and updateProduct. */
import type { ProductAttribute, ProductChanges, ProductDetails, ProductImage } from '../domain/product.ts';
import { slugify } from '../domain/product.ts';
import { DEFAULT_CURRENCY, LIMITS } from '../domain/rules.ts';
import * as check from './validation.ts';

export interface ProductFieldsInput {
  sku?: string | null;
  name?: string | null;
  slug?: string | null;
  description?: string | null;
  priceCents?: number | null;
  currency?: string | null;
  categoryId?: string | null;
  images?: ProductImage[] | null;
  attributes?: ProductAttribute[] | null;
}

export function parseNewProduct(input: ProductFieldsInput): ProductDetails {
  const name = check.freeText('name', input.name, LIMITS.nameMaxLength);
  return {
    sku: check.sku('sku', input.sku),
    name,
    // Without an explicit slug, one is derived from the name (and must then be valid too).
    slug: check.slug(input.slug ? 'slug' : 'name', input.slug ?? slugify(name)),
    description: check.freeText('description', input.description, LIMITS.descriptionMaxLength, { required: false }),
    price: {
      amountCents: check.priceCents('priceCents', input.priceCents),
      currency: input.currency ? check.currency('currency', input.currency) : DEFAULT_CURRENCY,
    },
    categoryId: input.categoryId ? check.uuid('categoryId', input.categoryId) : null,
    images: check.images('images', input.images),
    attributes: check.attributes('attributes', input.attributes),
  };
}

/** Requested changes; the price may name only the amount or only the currency. */
export type ProductChangeRequest = Omit<ProductChanges, 'price'> & { priceCents?: number; currency?: string };

/**
 * Only the fields present in the input. `categoryId: null` moves the product out of its category;
 * null on any other field is refused, since those cannot be cleared.
 */
export function parseProductChanges(input: ProductFieldsInput): ProductChangeRequest {
  const has = (field: keyof ProductFieldsInput) => input[field] !== undefined;
  const changes: ProductChangeRequest = {};
  if (has('sku')) changes.sku = check.sku('sku', check.notNull('sku', input.sku!));
  if (has('name')) changes.name = check.freeText('name', check.notNull('name', input.name!), LIMITS.nameMaxLength);
  if (has('slug')) changes.slug = check.slug('slug', check.notNull('slug', input.slug!));
  if (has('description')) {
    changes.description = check.freeText(
      'description',
      check.notNull('description', input.description!),
      LIMITS.descriptionMaxLength,
      {
        required: false,
      },
    );
  }
  if (has('priceCents')) changes.priceCents = check.priceCents('priceCents', check.notNull('priceCents', input.priceCents!));
  if (has('currency')) changes.currency = check.currency('currency', check.notNull('currency', input.currency!));
  if (has('categoryId')) changes.categoryId = input.categoryId === null ? null : check.uuid('categoryId', input.categoryId);
  if (has('images')) changes.images = check.images('images', check.notNull('images', input.images!));
  if (has('attributes')) changes.attributes = check.attributes('attributes', check.notNull('attributes', input.attributes!));
  return changes;
}

/** The request as changes to the current product (a new amount keeps the currency and vice versa). */
export function toProductChanges(request: ProductChangeRequest, current: ProductDetails): ProductChanges {
  const { priceCents, currency, ...changes } = request;
  if (priceCents === undefined && currency === undefined) return changes;
  return {
    ...changes,
    price: { amountCents: priceCents ?? current.price.amountCents, currency: currency ?? current.price.currency },
  };
}
