/** Checks several use cases make inside their transaction, before writing. */
import { badInput, conflict } from '@commerce/platform';
import type { CatalogTransaction } from '../ports/catalog-store.ts';

/** sku and slug are unique: a clash is a CONFLICT naming the field (the unique indexes back this up). */
export async function assertUniqueProductFields(
  tx: CatalogTransaction,
  values: { sku?: string; slug?: string },
  exceptProductId?: string,
): Promise<void> {
  if (values.sku === undefined && values.slug === undefined) return;
  const taken = await tx.products.findTaken(values, exceptProductId);
  if (taken.sku) throw conflict(`sku "${values.sku}" is already used by another product`, { field: 'sku' });
  if (taken.slug) throw conflict(`slug "${values.slug}" is already used by another product`, { field: 'slug' });
}

export async function assertCategoryExists(
  tx: CatalogTransaction,
  field: string,
  categoryId: string | null | undefined,
): Promise<void> {
  if (!categoryId) return;
  if (!(await tx.categories.findById(categoryId))) throw badInput(field, `${field}: no such category`);
}
