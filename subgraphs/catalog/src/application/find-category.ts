import { badInput } from '@commerce/platform';
import type { Category } from '../domain/category.ts';
import type { CategoryRepository } from '../ports/category-repository.ts';
import { uuid } from './validation.ts';

export interface FindCategoryInput {
  id?: string | null;
  slug?: string | null;
}

/** `category(id | slug)`: exactly one of them; an id that is not a UUID is BAD_USER_INPUT, never a silent null. */
export async function findCategory(
  categories: Pick<CategoryRepository, 'findBySlug'>,
  byId: (id: string) => Promise<Category | null>,
  input: FindCategoryInput,
): Promise<Category | null> {
  const hasId = input.id !== null && input.id !== undefined;
  const hasSlug = input.slug !== null && input.slug !== undefined;
  if (hasId === hasSlug) throw badInput(hasId ? 'slug' : 'id', 'Give exactly one of id or slug');
  return hasId ? byId(uuid('id', input.id)) : categories.findBySlug(input.slug!.trim());
}
