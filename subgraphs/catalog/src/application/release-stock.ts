import { catalogEvent, stockChanges } from '../domain/events.ts';
import { releasedStock } from '../domain/reservation.ts';
import { LIMITS } from '../domain/rules.ts';
import type { StockLevel } from '../domain/stock.ts';
import type { CatalogStore, EventCause } from '../ports/catalog-store.ts';
import type { ReleaseOutcome } from '../ports/stock-reservations.ts';
import { text } from './validation.ts';

/**
 * Saga step after PaymentFailed or OrderCancelled: gives the order's reserved units back (StockReleased). Idempotent;
 * a release for an order not reserved yet leaves a marker so a late OrderPlaced is rejected.
 */
export async function releaseStock(store: CatalogStore, input: { orderId: string }, cause?: EventCause): Promise<ReleaseOutcome> {
  const orderId = text('orderId', input.orderId, LIMITS.externalIdMaxLength);
  return store.transaction(async (tx) => {
    const reservation = await tx.reservations.claim(orderId);
    if (reservation === 'claimed') {
      await tx.reservations.save({ orderId, status: 'RELEASED', lines: [], total: null, rejection: null });
      return { orderId, status: 'RELEASED', released: false };
    }
    // Rejected: nothing was reserved. Released: already given back. Committed: shipped, a return is another flow.
    if (reservation.status !== 'RESERVED') return { orderId, status: reservation.status, released: false };

    const locked = await tx.stock.lock(reservation.lines.map((line) => line.productId));
    const before = new Map<string, StockLevel>([...locked].map(([id, row]) => [id, row.stock]));
    const after = releasedStock(reservation.lines, before);
    await tx.stock.save(after);
    await tx.reservations.save({ ...reservation, status: 'RELEASED' });
    await tx.publish(
      [
        catalogEvent('StockReleased', {
          orderId,
          lines: reservation.lines.map(({ productId, quantity }) => ({ productId, quantity })),
        }),
        ...stockChanges(before, after, 'RELEASE', { orderId }),
      ],
      cause,
    );
    return { orderId, status: 'RELEASED', released: true };
  });
}
