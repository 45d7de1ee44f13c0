/** How shoppers browse products: filters, sort orders, and the keyset position of a page. */

export type ProductSort = 'RELEVANCE' | 'PRICE_ASC' | 'PRICE_DESC' | 'NEWEST' | 'NAME';

export const PRODUCT_SORTS: readonly ProductSort[] = ['RELEVANCE', 'PRICE_ASC', 'PRICE_DESC', 'NEWEST', 'NAME'];

export interface ProductFilter {
  /** Full-text query (name, sku, attributes, description). */
  search: string | null;
  /** This category or any category below it. */
  categoryId: string | null;
  minPriceCents: number | null;
  maxPriceCents: number | null;
  /** true: only products with units available; false: only sold-out ones. */
  inStock: boolean | null;
  /** Admins only: archived products too. */
  includeArchived: boolean;
}

export const NO_FILTER: ProductFilter = {
  search: null,
  categoryId: null,
  minPriceCents: null,
  maxPriceCents: null,
  inStock: null,
  includeArchived: false,
};

/**
 * Relevance only means something for a search; without one the storefront's default is newest
 * first. An explicit RELEVANCE without a search therefore behaves like NEWEST.
 */
export function effectiveSort(requested: ProductSort | null | undefined, search: string | null): ProductSort {
  if (requested === 'RELEVANCE' || requested === null || requested === undefined) return search ? 'RELEVANCE' : 'NEWEST';
  return requested;
}

/**
 * A keyset position: the sort key of the last row seen plus its id. The id makes the order total, so
 * rows with equal keys (price ties, same rank) are neither repeated nor skipped across pages.
 */
export type ProductPosition =
  | { sort: 'NEWEST'; createdAt: string; id: string }
  | { sort: 'PRICE_ASC' | 'PRICE_DESC'; priceCents: number; id: string }
  | { sort: 'NAME'; name: string; id: string }
  | { sort: 'RELEVANCE'; rank: number; id: string };
