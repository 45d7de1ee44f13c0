import { conflict } from '@commerce/platform';
import { stockChanges } from '../domain/events.ts';
import { committedStock } from '../domain/reservation.ts';
import { LIMITS } from '../domain/rules.ts';
import type { StockLevel } from '../domain/stock.ts';
import type { CatalogStore, EventCause } from '../ports/catalog-store.ts';
import type { CommitOutcome } from '../ports/stock-reservations.ts';
import { text } from './validation.ts';

/** Saga step when the order ships: its reserved units leave the shelf (on hand and reserved both drop). */
export async function commitStock(store: CatalogStore, input: { orderId: string }, cause?: EventCause): Promise<CommitOutcome> {
  const orderId = text('orderId', input.orderId, LIMITS.externalIdMaxLength);
  return store.transaction(async (tx) => {
    const reservation = await tx.reservations.findForUpdate(orderId);
    if (reservation?.status === 'COMMITTED') return { orderId, status: 'COMMITTED', committed: false };
    if (reservation?.status !== 'RESERVED') {
      throw conflict(`Order ${orderId} has no reserved stock to ship`, { orderId, reservation: reservation?.status ?? null });
    }
    const locked = await tx.stock.lock(reservation.lines.map((line) => line.productId));
    const before = new Map<string, StockLevel>([...locked].map(([id, row]) => [id, row.stock]));
    const after = committedStock(reservation.lines, before);
    await tx.stock.save(after);
    await tx.reservations.save({ ...reservation, status: 'COMMITTED' });
    await tx.publish(stockChanges(before, after, 'COMMIT', { orderId }), cause);
    return { orderId, status: 'COMMITTED', committed: true };
  });
}
