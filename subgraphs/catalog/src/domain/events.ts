/**
 * Events the catalog publishes on `catalog.events` (through its outbox). The shared contracts in
 * `@commerce/events` (contracts/catalog.ts) validate them; these types are the catalog's view of the
 * payloads: what the order saga and the gateway's cache purge need. Aggregate ids follow from the
 * payload (product id, or order id for the saga events).
 */
import type { Money, Product, ProductStatus } from './product.ts';
import type { PricedLine, Rejection } from './reservation.ts';
import { availableUnits, type StockLevel } from './stock.ts';

export interface ProductSnapshot {
  productId: string;
  sku: string;
  slug: string;
  name: string;
  price: Money;
  categoryId: string | null;
  status: ProductStatus;
  version: number;
}

/** What moved the stock: an admin adjustment, or a step of an order's reservation. */
export type StockChangeReason = 'ADJUSTMENT' | 'RESERVATION' | 'RELEASE' | 'COMMIT';

export interface CatalogEventPayloads {
  ProductCreated: ProductSnapshot & { onHand: number };
  /** The product after the change; `changes` holds the new value of every field in `changedFields`. */
  ProductUpdated: ProductSnapshot & { changedFields: string[]; changes: Record<string, unknown> };
  ProductArchived: { productId: string; version: number; sku: string; slug: string };
  StockChanged: {
    productId: string;
    onHand: number;
    reserved: number;
    available: number;
    onHandDelta: number;
    reservedDelta: number;
    reason: StockChangeReason;
    /** The admin's reason for an ADJUSTMENT. */
    note?: string;
    /** The order of a RESERVATION, RELEASE or COMMIT. */
    orderId?: string;
  };
  StockReserved: { orderId: string; lines: PricedLine[]; total: Money };
  StockRejected: { orderId: string } & Rejection;
  StockReleased: { orderId: string; lines: { productId: string; quantity: number }[] };
}

export type CatalogEventType = keyof CatalogEventPayloads;

export type CatalogEvent = {
  [Type in CatalogEventType]: { type: Type; payload: CatalogEventPayloads[Type] };
}[CatalogEventType];

export function catalogEvent<Type extends CatalogEventType>(type: Type, payload: CatalogEventPayloads[Type]): CatalogEvent {
  return { type, payload } as CatalogEvent;
}

export function productSnapshot(product: Product): ProductSnapshot {
  return {
    productId: product.id,
    sku: product.sku,
    slug: product.slug,
    name: product.name,
    price: product.price,
    categoryId: product.categoryId,
    status: product.status,
    version: product.version,
  };
}

export function stockChanged(
  productId: string,
  before: StockLevel,
  after: StockLevel,
  reason: StockChangeReason,
  context: { note?: string; orderId?: string },
): CatalogEvent {
  return catalogEvent('StockChanged', {
    productId,
    onHand: after.onHand,
    reserved: after.reserved,
    available: availableUnits(after),
    onHandDelta: after.onHand - before.onHand,
    reservedDelta: after.reserved - before.reserved,
    reason,
    ...(context.note !== undefined ? { note: context.note } : {}),
    ...(context.orderId !== undefined ? { orderId: context.orderId } : {}),
  });
}

/** One StockChanged per product whose level moved. */
export function stockChanges(
  before: ReadonlyMap<string, StockLevel>,
  after: ReadonlyMap<string, StockLevel>,
  reason: StockChangeReason,
  context: { note?: string; orderId?: string },
): CatalogEvent[] {
  return [...after].flatMap(([productId, level]) => {
    const previous = before.get(productId);
    if (!previous || (previous.onHand === level.onHand && previous.reserved === level.reserved)) return [];
    return [stockChanged(productId, previous, level, reason, context)];
  });
}
