import DataLoader from 'dataloader';
import type { Product } from '../../domain/product.ts';
import type { ProductRepository } from '../../ports/product-repository.ts';

/** DataLoaders live for one request: batching without sharing data across viewers. */
export function createCatalogLoaders(products: ProductRepository) {
  return {
    productById: new DataLoader<string, Product | null>(async (ids) => {
      const found = new Map((await products.findByIds(ids)).map((product) => [product.id, product]));
      return ids.map((id) => found.get(id) ?? null);
    }),
  };
}

export type CatalogLoaders = ReturnType<typeof createCatalogLoaders>;
