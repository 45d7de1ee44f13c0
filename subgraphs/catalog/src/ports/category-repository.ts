import type { Category } from '../domain/category.ts';

export interface CategoryRepository {
  findByIds(ids: readonly string[]): Promise<Category[]>;
  findBySlug(slug: string): Promise<Category | null>;
  /** Direct children of each given parent, by name. */
  findChildren(parentIds: readonly string[]): Promise<Category[]>;
  /** Top-level categories, by name. */
  findRoots(): Promise<Category[]>;
}
