import type { Product } from '../domain/product.ts';

/** Position of a product in the default listing order (newest first, id breaks ties). */
export interface ProductCursor {
  createdAt: string;
  id: string;
}

export interface ProductPageQuery {
  limit: number;
  after: ProductCursor | null;
}

export interface ProductRepository {
  /** Active products in listing order, `limit` rows starting after the cursor. */
  listActive(query: ProductPageQuery): Promise<Product[]>;
  countActive(): Promise<number>;
  findByIds(ids: readonly string[]): Promise<Product[]>;
}
