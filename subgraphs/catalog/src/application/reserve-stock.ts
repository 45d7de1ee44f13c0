import { badInput } from '@commerce/platform';
import { catalogEvent, stockChanges } from '../domain/events.ts';
import { mergeLines, planReservation, type Reservation } from '../domain/reservation.ts';
import { LIMITS } from '../domain/rules.ts';
import type { StockLevel } from '../domain/stock.ts';
import type { CatalogStore, EventCause } from '../ports/catalog-store.ts';
import type { ReservationOutcome, ReserveStockCommand } from '../ports/stock-reservations.ts';
import { integer, isUuid, text } from './validation.ts';

/**
 * Saga step after OrderPlaced: reserves every line of the order or none. Stock rows are locked in
 * product id order, checked, then updated in one transaction, so concurrent orders can neither
 * oversell nor deadlock. The order's reservation row makes a redelivery return the first answer.
 */
export async function reserveStock(
  store: CatalogStore,
  command: ReserveStockCommand,
  cause?: EventCause,
): Promise<ReservationOutcome> {
  const orderId = text('orderId', command.orderId, LIMITS.externalIdMaxLength);
  if (!Array.isArray(command.lines) || command.lines.length === 0) throw badInput('lines', 'An order needs at least one line');
  if (command.lines.length > LIMITS.maxReservationLines) throw badInput('lines', `At most ${LIMITS.maxReservationLines} lines`);
  const lines = mergeLines(
    command.lines.map((line, index) => ({
      // An unknown (even malformed) product id is not an input error: the order is rejected as unavailable.
      productId: text(`lines[${index}].productId`, line.productId, LIMITS.externalIdMaxLength).toLowerCase(),
      quantity: integer(`lines[${index}].quantity`, line.quantity, 1, LIMITS.maxLineQuantity),
    })),
  );

  return store.transaction(async (tx) => {
    const existing = await tx.reservations.claim(orderId);
    if (existing !== 'claimed') {
      if (!isReleasedBeforeReserved(existing)) return outcomeOf(existing, true);
      // The order was cancelled before its OrderPlaced got here: never reserve for it.
      const rejected: Reservation = { ...existing, status: 'REJECTED', rejection: { reason: 'ORDER_RELEASED', lines: [] } };
      await tx.reservations.save(rejected);
      await tx.publish([catalogEvent('StockRejected', { orderId, ...rejected.rejection! })], cause);
      return outcomeOf(rejected, false);
    }

    const locked = await tx.stock.lock(lines.map((line) => line.productId).filter(isUuid));
    const plan = planReservation(lines, locked);
    if (!plan.ok) {
      const rejected: Reservation = { orderId, status: 'REJECTED', lines: [], total: null, rejection: plan.rejection };
      await tx.reservations.save(rejected);
      await tx.publish([catalogEvent('StockRejected', { orderId, ...plan.rejection })], cause);
      return outcomeOf(rejected, false);
    }

    await tx.stock.save(plan.stock);
    const reserved: Reservation = { orderId, status: 'RESERVED', lines: plan.lines, total: plan.total, rejection: null };
    await tx.reservations.save(reserved);
    const before = new Map<string, StockLevel>([...locked].map(([id, row]) => [id, row.stock]));
    await tx.publish(
      [
        catalogEvent('StockReserved', { orderId, lines: plan.lines, total: plan.total }),
        ...stockChanges(before, plan.stock, 'RESERVATION', { orderId }),
      ],
      cause,
    );
    return outcomeOf(reserved, false);
  });
}

/** A release that arrived first leaves a RELEASED row without lines (see releaseStock). */
const isReleasedBeforeReserved = (reservation: Reservation) =>
  reservation.status === 'RELEASED' && reservation.lines.length === 0 && reservation.rejection === null;

/** The answer a reservation gave when it was made (released or shipped later, it was still reserved). */
function outcomeOf(reservation: Reservation, replayed: boolean): ReservationOutcome {
  if (reservation.status === 'REJECTED' || reservation.total === null) {
    return {
      status: 'REJECTED',
      orderId: reservation.orderId,
      rejection: reservation.rejection ?? { reason: 'ORDER_RELEASED', lines: [] },
      replayed,
    };
  }
  return { status: 'RESERVED', orderId: reservation.orderId, lines: reservation.lines, total: reservation.total, replayed };
}
