import DataLoader from 'dataloader';
import type { Category } from '../../domain/category.ts';
import type { Product } from '../../domain/product.ts';
import { isUuid } from '../../application/validation.ts';
import type { CategoryRepository } from '../../ports/category-repository.ts';
import type { ProductRepository } from '../../ports/product-repository.ts';

/**
 * DataLoaders live for one request: batching without sharing data across viewers. Each loader turns
 * all the keys a request asks for in one tick (an `_entities` call, a page of products) into one query.
 */
export function createCatalogLoaders(products: ProductRepository, categories: CategoryRepository) {
  return {
    productById: new DataLoader<string, Product | null>((ids) => loadByIds(ids, (valid) => products.findByIds(valid))),
    categoryById: new DataLoader<string, Category | null>((ids) => loadByIds(ids, (valid) => categories.findByIds(valid))),
    childrenOfCategory: new DataLoader<string, Category[]>(async (parentIds) => {
      const children = await categories.findChildren(parentIds);
      return parentIds.map((parentId) => children.filter((child) => child.parentId === parentId));
    }),
  };
}

export type CatalogLoaders = ReturnType<typeof createCatalogLoaders>;

/** Ids that cannot exist (not UUIDs) resolve to null without reaching SQL. */
async function loadByIds<T extends { id: string }>(
  ids: readonly string[],
  find: (ids: string[]) => Promise<T[]>,
): Promise<(T | null)[]> {
  const valid = [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
  const found = new Map((valid.length > 0 ? await find(valid) : []).map((item) => [item.id, item]));
  return ids.map((id) => found.get(id.toLowerCase()) ?? null);
}
