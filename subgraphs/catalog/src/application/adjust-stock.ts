import { badInput, DomainError, notFound, requireAdmin, type Viewer } from '@commerce/platform';
import { stockChanged } from '../domain/events.ts';
import type { Product } from '../domain/product.ts';
import { LIMITS } from '../domain/rules.ts';
import { adjustOnHand } from '../domain/stock.ts';
import type { CatalogStore, EventCause } from '../ports/catalog-store.ts';
import { freeText, integer, uuid } from './validation.ts';

export interface AdjustStockInput {
  productId: string;
  /** Units added (delivery) or removed (breakage, count correction). */
  delta: number;
  reason: string;
}

/** Admin: corrects the units on hand; refuses to go below what is reserved for orders. Emits StockChanged. */
export async function adjustStock(
  store: CatalogStore,
  actor: Viewer | null,
  input: AdjustStockInput,
  cause?: EventCause,
): Promise<Product> {
  const admin = requireAdmin(actor);
  const productId = uuid('productId', input.productId);
  const delta = integer('delta', input.delta, -LIMITS.maxStockDelta, LIMITS.maxStockDelta);
  if (delta === 0) throw badInput('delta', 'delta must not be zero');
  const reason = freeText('reason', input.reason, LIMITS.reasonMaxLength);
  return store.transaction(async (tx) => {
    const locked = (await tx.stock.lock([productId])).get(productId);
    if (!locked) throw notFound('Product');
    const result = adjustOnHand(locked.stock, delta);
    if (!result.ok) {
      const { onHand, reserved } = locked.stock;
      throw new DomainError(
        'INSUFFICIENT_STOCK',
        `Cannot remove ${-delta} units: ${onHand} on hand, ${reserved} of them reserved for orders`,
        { field: 'delta', onHand, reserved },
      );
    }
    if (result.stock.onHand > LIMITS.maxStockUnits)
      throw badInput('delta', `stock on hand cannot exceed ${LIMITS.maxStockUnits} units`);
    await tx.stock.save(new Map([[productId, result.stock]]));
    await tx.stock.recordAdjustment({ productId, delta, reason, actorId: admin.userId, onHand: result.stock.onHand });
    await tx.publish([stockChanged(productId, locked.stock, result.stock, 'ADJUSTMENT', { note: reason })], cause);
    return (await tx.products.findById(productId))!;
  });
}
