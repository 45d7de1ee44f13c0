import {
  badInput,
  decodeCursor,
  encodeCursor,
  pageSize,
  requireAdmin,
  toConnection,
  type Connection,
  type Viewer,
} from '@commerce/platform';
import { effectiveSort, PRODUCT_SORTS, type ProductFilter, type ProductPosition, type ProductSort } from '../domain/listing.ts';
import type { Product } from '../domain/product.ts';
import { LIMITS } from '../domain/rules.ts';
import type { ProductRepository } from '../ports/product-repository.ts';
import { integer, isUuid, text, uuid } from './validation.ts';

export interface ProductFilterInput {
  search?: string | null;
  categoryId?: string | null;
  minPriceCents?: number | null;
  maxPriceCents?: number | null;
  inStock?: boolean | null;
  includeArchived?: boolean | null;
}

export interface ListProductsInput {
  first?: number | null;
  after?: string | null;
  filter?: ProductFilterInput | null;
  sort?: ProductSort | null;
}

/**
 * The storefront's product listing: filtered, sorted, as a cursor connection. Cursors are keyset
 * positions (sort key + id), so pages stay stable while other products are added or repriced.
 */
export async function listProducts(
  products: ProductRepository,
  viewer: Viewer | null,
  input: ListProductsInput,
): Promise<Connection<Product>> {
  const size = pageSize(input.first);
  const filter = parseFilter(input.filter ?? {}, viewer);
  if (input.sort && !PRODUCT_SORTS.includes(input.sort)) throw badInput('sort', 'unknown sort order');
  const sort = effectiveSort(input.sort, filter.search);
  const after = input.after ? decodeCursor(input.after, isPositionFor(sort)) : null;
  const rows = await products.page({ filter, sort, after, limit: size + 1 });
  const connection = toConnection(
    rows,
    size,
    (row) => encodeCursor(row.position),
    () => products.count(filter),
    after !== null,
  );
  return {
    ...connection,
    edges: connection.edges.map((edge) => ({ cursor: edge.cursor, node: edge.node.product })),
    nodes: connection.nodes.map((row) => row.product),
  };
}

/**
 * `Category.products`: the same listing with the category fixed (products in it or in any category below
 * it), so a category page is one request. A `filter.categoryId` naming another category is refused rather
 * than silently replaced.
 */
export function listCategoryProducts(
  products: ProductRepository,
  viewer: Viewer | null,
  categoryId: string,
  input: ListProductsInput,
): Promise<Connection<Product>> {
  const requested = input.filter?.categoryId;
  if (requested !== null && requested !== undefined && requested.toLowerCase() !== categoryId.toLowerCase()) {
    throw badInput('filter.categoryId', 'filter.categoryId cannot differ from the category whose products are listed');
  }
  return listProducts(products, viewer, { ...input, filter: { ...input.filter, categoryId } });
}

export function parseFilter(input: ProductFilterInput, viewer: Viewer | null): ProductFilter {
  const search = text('filter.search', input.search, LIMITS.searchMaxLength, { required: false }) || null;
  const bound = (field: 'minPriceCents' | 'maxPriceCents') => {
    const value = input[field];
    return value === null || value === undefined ? null : integer(`filter.${field}`, value, 0, LIMITS.maxPriceCents);
  };
  const minPriceCents = bound('minPriceCents');
  const maxPriceCents = bound('maxPriceCents');
  if (minPriceCents !== null && maxPriceCents !== null && minPriceCents > maxPriceCents) {
    throw badInput('filter.maxPriceCents', 'filter.maxPriceCents must not be below filter.minPriceCents');
  }
  const includeArchived = input.includeArchived === true;
  if (includeArchived) requireAdmin(viewer);
  return {
    search,
    categoryId: input.categoryId ? uuid('filter.categoryId', input.categoryId) : null,
    minPriceCents,
    maxPriceCents,
    inStock: input.inStock ?? null,
    includeArchived,
  };
}

/** A cursor is only valid for the sort order that produced it. */
function isPositionFor(sort: ProductSort) {
  return (value: unknown): value is ProductPosition => {
    if (typeof value !== 'object' || value === null) return false;
    const position = value as Record<string, unknown>;
    if (position.sort !== sort || !isUuid(position.id)) return false;
    switch (sort) {
      case 'NEWEST':
        return typeof position.createdAt === 'string' && !Number.isNaN(Date.parse(position.createdAt));
      case 'PRICE_ASC':
      case 'PRICE_DESC':
        return Number.isInteger(position.priceCents);
      case 'NAME':
        return typeof position.name === 'string';
      case 'RELEVANCE':
        return typeof position.rank === 'number' && Number.isFinite(position.rank);
    }
  };
}
