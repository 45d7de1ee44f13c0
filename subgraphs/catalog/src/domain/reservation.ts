/**
 * Stock reservations for the order saga: an order's lines are reserved all together or not at all,
 * released when the order is cancelled, and committed (taken off the shelf) when it ships.
 */
import type { Money, ProductStatus } from './product.ts';
import type { StockLevel } from './stock.ts';
import { availableUnits } from './stock.ts';

export interface RequestedLine {
  productId: string;
  quantity: number;
}

export interface PricedLine {
  productId: string;
  quantity: number;
  unitPrice: Money;
  lineTotal: Money;
}

/** What reservation needs to know about each product, read under a row lock. */
export interface StockForReservation {
  productId: string;
  status: ProductStatus;
  price: Money;
  stock: StockLevel;
}

export type RejectionReason = 'INSUFFICIENT_STOCK' | 'PRODUCT_UNAVAILABLE' | 'MIXED_CURRENCIES' | 'ORDER_RELEASED';

export interface Rejection {
  reason: RejectionReason;
  /** The lines that caused it, with what could have been reserved. */
  lines: { productId: string; requested: number; available: number }[];
}

export type ReservationStatus = 'RESERVED' | 'REJECTED' | 'RELEASED' | 'COMMITTED';

/** The stored record of one order's reservation: the idempotency key is the order id. */
export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  lines: PricedLine[];
  total: Money | null;
  rejection: Rejection | null;
}

export type ReservationPlan =
  { ok: true; lines: PricedLine[]; total: Money; stock: Map<string, StockLevel> } | { ok: false; rejection: Rejection };

/** Repeated lines for one product count as one line with the summed quantity; sorted by product id. */
export function mergeLines(lines: readonly RequestedLine[]): RequestedLine[] {
  const quantities = new Map<string, number>();
  for (const line of lines) quantities.set(line.productId, (quantities.get(line.productId) ?? 0) + line.quantity);
  return [...quantities]
    .map(([productId, quantity]) => ({ productId, quantity }))
    .sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0));
}

/**
 * Decides a reservation from the locked stock rows: every line must name an active product with
 * enough available units, and all prices must share one currency. Returns the new stock levels.
 */
export function planReservation(
  lines: readonly RequestedLine[],
  products: ReadonlyMap<string, StockForReservation>,
): ReservationPlan {
  const merged = mergeLines(lines);
  const unavailable = merged.filter((line) => products.get(line.productId)?.status !== 'ACTIVE');
  if (unavailable.length > 0) {
    return {
      ok: false,
      rejection: {
        reason: 'PRODUCT_UNAVAILABLE',
        lines: unavailable.map((line) => ({ productId: line.productId, requested: line.quantity, available: 0 })),
      },
    };
  }
  const short = merged.filter((line) => availableUnits(products.get(line.productId)!.stock) < line.quantity);
  if (short.length > 0) {
    return {
      ok: false,
      rejection: {
        reason: 'INSUFFICIENT_STOCK',
        lines: short.map((line) => ({
          productId: line.productId,
          requested: line.quantity,
          available: Math.max(0, availableUnits(products.get(line.productId)!.stock)),
        })),
      },
    };
  }
  const currencies = new Set(merged.map((line) => products.get(line.productId)!.price.currency));
  if (currencies.size > 1) {
    return { ok: false, rejection: { reason: 'MIXED_CURRENCIES', lines: [] } };
  }
  const currency = [...currencies][0]!;
  const priced: PricedLine[] = [];
  const stock = new Map<string, StockLevel>();
  for (const line of merged) {
    const product = products.get(line.productId)!;
    priced.push({
      productId: line.productId,
      quantity: line.quantity,
      unitPrice: product.price,
      lineTotal: { amountCents: product.price.amountCents * line.quantity, currency },
    });
    stock.set(line.productId, { onHand: product.stock.onHand, reserved: product.stock.reserved + line.quantity });
  }
  const total = { amountCents: priced.reduce((sum, line) => sum + line.lineTotal.amountCents, 0), currency };
  return { ok: true, lines: priced, total, stock };
}

/** Stock after giving back a reservation's units (order cancelled or payment failed). */
export function releasedStock(lines: readonly PricedLine[], current: ReadonlyMap<string, StockLevel>): Map<string, StockLevel> {
  return applyToStock(lines, current, (stock, quantity) => ({ onHand: stock.onHand, reserved: stock.reserved - quantity }));
}

/** Stock after the order shipped: the reserved units leave the shelf. */
export function committedStock(lines: readonly PricedLine[], current: ReadonlyMap<string, StockLevel>): Map<string, StockLevel> {
  return applyToStock(lines, current, (stock, quantity) => ({
    onHand: stock.onHand - quantity,
    reserved: stock.reserved - quantity,
  }));
}

function applyToStock(
  lines: readonly PricedLine[],
  current: ReadonlyMap<string, StockLevel>,
  change: (stock: StockLevel, quantity: number) => StockLevel,
): Map<string, StockLevel> {
  const next = new Map<string, StockLevel>();
  for (const line of lines) {
    const stock = next.get(line.productId) ?? current.get(line.productId);
    if (!stock) throw new Error(`reserved product ${line.productId} has no stock row`);
    next.set(line.productId, change(stock, line.quantity));
  }
  return next;
}
