import { conflict, notFound, requireAdmin, type Viewer } from '@commerce/platform';
import { catalogEvent, productSnapshot } from '../domain/events.ts';
import { effectiveChanges, type Product } from '../domain/product.ts';
import type { CatalogStore, EventCause } from '../ports/catalog-store.ts';
import { assertCategoryExists, assertUniqueProductFields } from './guards.ts';
import { parseProductChanges, toProductChanges, type ProductFieldsInput } from './product-input.ts';
import { integer, uuid } from './validation.ts';

export interface UpdateProductInput extends ProductFieldsInput {
  id: string;
  /** The version the admin read: optimistic concurrency, a stale one is a CONFLICT. */
  version: number;
}

export const staleVersion = (product: Product) =>
  conflict(`Product was changed meanwhile (now version ${product.version}): reload it and apply your change again`, {
    field: 'version',
    currentVersion: product.version,
  });

/** Admin: edits a product if nobody else changed it since `version`; emits ProductUpdated with what changed. */
export async function updateProduct(
  store: CatalogStore,
  actor: Viewer | null,
  input: UpdateProductInput,
  cause?: EventCause,
): Promise<Product> {
  requireAdmin(actor);
  const id = uuid('id', input.id);
  const version = integer('version', input.version, 1, 2_147_483_647);
  const request = parseProductChanges(input);
  return store.transaction(async (tx) => {
    const current = await tx.products.findById(id, { forUpdate: true });
    if (!current) throw notFound('Product');
    if (current.version !== version) throw staleVersion(current);
    const changes = effectiveChanges(current, toProductChanges(request, current));
    const changedFields = Object.keys(changes);
    if (changedFields.length === 0) return current; // nothing to do: no new version, no event
    await assertCategoryExists(tx, 'categoryId', changes.categoryId);
    await assertUniqueProductFields(tx, { sku: changes.sku, slug: changes.slug }, id);
    const updated = await tx.products.updateIfVersion(id, version, changes);
    if (!updated) throw staleVersion((await tx.products.findById(id)) ?? current);
    await tx.publish([catalogEvent('ProductUpdated', { ...productSnapshot(updated), changedFields, changes })], cause);
    return updated;
  });
}
