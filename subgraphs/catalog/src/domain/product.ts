/** Catalog domain: pure types and rules, no framework imports. */
import type { StockLevel } from './stock.ts';

export type ProductStatus = 'ACTIVE' | 'ARCHIVED';

/** Integer minor units plus an ISO 4217 code; never floating point. */
export interface Money {
  amountCents: number;
  currency: string;
}

export interface ProductImage {
  url: string;
  alt: string;
}

/** A specification line shown on the product page, e.g. { name: 'Weight', value: '250 g' }; kept in display order. */
export interface ProductAttribute {
  name: string;
  value: string;
}

export interface Product {
  id: string;
  sku: string;
  slug: string;
  name: string;
  description: string;
  price: Money;
  images: ProductImage[];
  attributes: ProductAttribute[];
  categoryId: string | null;
  status: ProductStatus;
  /** Optimistic concurrency token: bumped by every change. */
  version: number;
  stock: StockLevel;
  createdAt: Date;
  updatedAt: Date;
}

/** The editable part of a product, as a use case receives it after validation. */
export interface ProductDetails {
  sku: string;
  slug: string;
  name: string;
  description: string;
  price: Money;
  images: ProductImage[];
  attributes: ProductAttribute[];
  categoryId: string | null;
}

export type ProductChanges = Partial<ProductDetails>;

export const isVisibleToShoppers = (product: Pick<Product, 'status'>) => product.status === 'ACTIVE';

/** Only the fields whose value really differs, so a no-op update neither bumps the version nor emits an event. */
export function effectiveChanges(current: ProductDetails, requested: ProductChanges): ProductChanges {
  const changes: ProductChanges = {};
  for (const key of Object.keys(requested) as (keyof ProductDetails)[]) {
    const next = requested[key];
    if (next === undefined) continue;
    if (!sameValue(current[key], next)) (changes as Record<string, unknown>)[key] = next;
  }
  return changes;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** JSON with sorted object keys: attribute order does not make a change. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, inner]) => [key, canonical(inner)]),
    );
  }
  return value;
}

/** A slug for a name: lower case ASCII words joined by single dashes. */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
