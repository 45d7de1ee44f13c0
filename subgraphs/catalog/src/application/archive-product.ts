import { notFound, requireAdmin, type Viewer } from '@commerce/platform';
import { catalogEvent } from '../domain/events.ts';
import type { Product } from '../domain/product.ts';
import type { CatalogStore, EventCause } from '../ports/catalog-store.ts';
import { staleVersion } from './update-product.ts';
import { uuid } from './validation.ts';

/**
 * Admin: hides a product from shoppers for good. Nothing is deleted — orders keep pointing at it and
 * reservations already made stay valid. Archiving twice is a no-op.
 */
export async function archiveProduct(
  store: CatalogStore,
  actor: Viewer | null,
  input: { id: string },
  cause?: EventCause,
): Promise<Product> {
  requireAdmin(actor);
  const id = uuid('id', input.id);
  return store.transaction(async (tx) => {
    const current = await tx.products.findById(id, { forUpdate: true });
    if (!current) throw notFound('Product');
    if (current.status === 'ARCHIVED') return current;
    const archived = await tx.products.updateIfVersion(id, current.version, { status: 'ARCHIVED' });
    if (!archived) throw staleVersion(current);
    await tx.publish(
      [catalogEvent('ProductArchived', { productId: id, version: archived.version, sku: archived.sku, slug: archived.slug })],
      cause,
    );
    return archived;
  });
}
