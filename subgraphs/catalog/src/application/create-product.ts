import { randomUUID } from 'node:crypto';
import { requireAdmin, type Viewer } from '@commerce/platform';
import { catalogEvent, productSnapshot } from '../domain/events.ts';
import type { Product } from '../domain/product.ts';
import { LIMITS } from '../domain/rules.ts';
import type { CatalogStore, EventCause } from '../ports/catalog-store.ts';
import { assertCategoryExists, assertUniqueProductFields } from './guards.ts';
import { parseNewProduct, type ProductFieldsInput } from './product-input.ts';
import { integer } from './validation.ts';

export interface CreateProductInput extends ProductFieldsInput {
  initialStock?: number | null;
}

/** Admin: adds a product (active at once) with its initial stock; emits ProductCreated. */
export async function createProduct(
  store: CatalogStore,
  actor: Viewer | null,
  input: CreateProductInput,
  cause?: EventCause,
): Promise<Product> {
  const admin = requireAdmin(actor);
  const details = parseNewProduct(input);
  const onHand =
    input.initialStock === null || input.initialStock === undefined
      ? 0
      : integer('initialStock', input.initialStock, 0, LIMITS.maxStockUnits);
  return store.transaction(async (tx) => {
    await assertCategoryExists(tx, 'categoryId', details.categoryId);
    await assertUniqueProductFields(tx, { sku: details.sku, slug: details.slug });
    const product = await tx.products.insert({ id: randomUUID(), ...details, onHand });
    if (onHand > 0)
      await tx.stock.recordAdjustment({
        productId: product.id,
        delta: onHand,
        reason: 'initial stock',
        actorId: admin.userId,
        onHand,
      });
    await tx.publish([catalogEvent('ProductCreated', { ...productSnapshot(product), onHand })], cause);
    return product;
  });
}
