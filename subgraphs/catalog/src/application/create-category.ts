import { randomUUID } from 'node:crypto';
import { conflict, requireAdmin, type Viewer } from '@commerce/platform';
import type { Category } from '../domain/category.ts';
import { slugify } from '../domain/product.ts';
import { LIMITS } from '../domain/rules.ts';
import type { CatalogStore, CatalogTransaction } from '../ports/catalog-store.ts';
import { assertCategoryExists } from './guards.ts';
import { freeText, slug, uuid } from './validation.ts';

export interface CreateCategoryInput {
  name: string;
  slug?: string | null;
  description?: string | null;
  /** Omitted or null: a top-level category. */
  parentId?: string | null;
}

export async function assertCategorySlugFree(tx: CatalogTransaction, value: string, exceptId?: string): Promise<void> {
  const existing = await tx.categories.findBySlug(value);
  if (existing && existing.id !== exceptId)
    throw conflict(`slug "${value}" is already used by another category`, { field: 'slug' });
}

/**
 * Admin: adds a category at the top or under a parent. (No event yet: the shared contracts have no
 * category events; cached category data expires with its max-age.)
 */
export async function createCategory(store: CatalogStore, actor: Viewer | null, input: CreateCategoryInput): Promise<Category> {
  requireAdmin(actor);
  const name = freeText('name', input.name, LIMITS.categoryNameMaxLength);
  const details = {
    name,
    slug: slug(input.slug ? 'slug' : 'name', input.slug ?? slugify(name)),
    description: freeText('description', input.description, LIMITS.categoryDescriptionMaxLength, { required: false }),
    parentId: input.parentId ? uuid('parentId', input.parentId) : null,
  };
  return store.transaction(async (tx) => {
    await assertCategoryExists(tx, 'parentId', details.parentId);
    await assertCategorySlugFree(tx, details.slug);
    const category = await tx.categories.insert({ id: randomUUID(), ...details });
    return category;
  });
}
