import type { Product } from '../domain/product.ts';
import type { ProductFilter, ProductPosition, ProductSort } from '../domain/listing.ts';

export interface ProductPageQuery {
  filter: ProductFilter;
  sort: ProductSort;
  /** Rows strictly after this position in `sort` order. */
  after: ProductPosition | null;
  limit: number;
}

/** A listed product with its keyset position (which, for RELEVANCE, carries the search rank). */
export interface ListedProduct {
  product: Product;
  position: ProductPosition;
}

/** Read side of the catalog: what the storefront and federation read. */
export interface ProductRepository {
  page(query: ProductPageQuery): Promise<ListedProduct[]>;
  count(filter: ProductFilter): Promise<number>;
  /** Any status: an order line keeps resolving a product after it was archived. One query per call. */
  findByIds(ids: readonly string[]): Promise<Product[]>;
  findBySlug(slug: string): Promise<Product | null>;
}
