import { badInput, notFound, requireAdmin, type Viewer } from '@commerce/platform';
import { wouldCreateCycle, type Category, type CategoryDetails } from '../domain/category.ts';
import { LIMITS } from '../domain/rules.ts';
import type { CatalogStore } from '../ports/catalog-store.ts';
import { assertCategorySlugFree } from './create-category.ts';
import { assertCategoryExists } from './guards.ts';
import { freeText, notNull, slug, uuid } from './validation.ts';

export interface UpdateCategoryInput {
  id: string;
  name?: string | null;
  slug?: string | null;
  description?: string | null;
  /** null moves the category to the top level; omitted leaves it where it is. */
  parentId?: string | null;
}

/** Admin: renames or moves a category; the tree must stay a tree. */
export async function updateCategory(store: CatalogStore, actor: Viewer | null, input: UpdateCategoryInput): Promise<Category> {
  requireAdmin(actor);
  const id = uuid('id', input.id);
  const changes: Partial<CategoryDetails> = {};
  if (input.name !== undefined) changes.name = freeText('name', notNull('name', input.name), LIMITS.categoryNameMaxLength);
  if (input.slug !== undefined) changes.slug = slug('slug', notNull('slug', input.slug));
  if (input.description !== undefined) {
    changes.description = freeText(
      'description',
      notNull('description', input.description),
      LIMITS.categoryDescriptionMaxLength,
      {
        required: false,
      },
    );
  }
  if (input.parentId !== undefined) changes.parentId = input.parentId === null ? null : uuid('parentId', input.parentId);
  return store.transaction(async (tx) => {
    const current = await tx.categories.findById(id);
    if (!current) throw notFound('Category');
    if (changes.slug !== undefined) await assertCategorySlugFree(tx, changes.slug, id);
    if (changes.parentId) {
      await assertCategoryExists(tx, 'parentId', changes.parentId);
      const ancestors = await tx.categories.ancestorIds(changes.parentId);
      if (wouldCreateCycle(id, changes.parentId, ancestors)) {
        throw badInput('parentId', 'A category cannot be moved under itself or one of its descendants');
      }
    }
    if (Object.keys(changes).length === 0) return current;
    return tx.categories.update(id, changes);
  });
}
