/**
 * The inbound port the order saga drives (wired to OrderPlaced / PaymentFailed / OrderCancelled /
 * OrderShipped by the event consumers). Every operation is idempotent per order id: a redelivered
 * event gets the first answer again and changes nothing.
 */
import type { Money } from '../domain/product.ts';
import type { PricedLine, Rejection, RequestedLine, ReservationStatus } from '../domain/reservation.ts';
import type { EventCause } from './catalog-store.ts';

export interface ReserveStockCommand {
  orderId: string;
  lines: RequestedLine[];
}

export type ReservationOutcome =
  | { status: 'RESERVED'; orderId: string; lines: PricedLine[]; total: Money; replayed: boolean }
  | { status: 'REJECTED'; orderId: string; rejection: Rejection; replayed: boolean };

export interface ReleaseOutcome {
  orderId: string;
  /** The reservation's status after the call. */
  status: ReservationStatus;
  /** Whether this call gave units back (false when replayed or nothing was reserved). */
  released: boolean;
}

export interface CommitOutcome {
  orderId: string;
  status: 'COMMITTED';
  /** Whether this call took the units off the shelf (false when replayed). */
  committed: boolean;
}

export interface StockReservations {
  /** All lines or none; writes StockReserved or StockRejected to the outbox. */
  reserve(command: ReserveStockCommand, cause?: EventCause): Promise<ReservationOutcome>;
  /** Gives reserved units back (order cancelled, payment failed). */
  release(orderId: string, cause?: EventCause): Promise<ReleaseOutcome>;
  /** The order shipped: reserved units leave on hand. */
  commit(orderId: string, cause?: EventCause): Promise<CommitOutcome>;
}
