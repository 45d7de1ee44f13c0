/**
 * The write side of the catalog as a unit of work: everything a use case changes inside one
 * `transaction` — products, stock, reservations and the events describing them — commits together.
 */
import type { Category, CategoryDetails } from '../domain/category.ts';
import type { CatalogEvent } from '../domain/events.ts';
import type { Product, ProductChanges, ProductDetails } from '../domain/product.ts';
import type { Reservation, StockForReservation } from '../domain/reservation.ts';
import type { StockLevel } from '../domain/stock.ts';

/** Where an event comes from: the request or the event that caused it (correlation and tracing). */
export interface EventCause {
  correlationId: string;
  /** Id of the event this one reacts to, if any. */
  causationId?: string | null;
  traceparent?: string | null;
}

export interface NewProduct extends ProductDetails {
  id: string;
  onHand: number;
}

export interface TransactionalProducts {
  /** `forUpdate` locks the row until the transaction ends (read-check-write without races). */
  findById(id: string, options?: { forUpdate?: boolean }): Promise<Product | null>;
  /** Which of these unique values another product already uses. */
  findTaken(values: { sku?: string; slug?: string }, exceptProductId?: string): Promise<{ sku: boolean; slug: boolean }>;
  insert(product: NewProduct): Promise<Product>;
  /** Applies the changes and bumps the version only if the stored version is `expectedVersion`; null otherwise. */
  updateIfVersion(
    id: string,
    expectedVersion: number,
    changes: ProductChanges & { status?: Product['status'] },
  ): Promise<Product | null>;
}

export interface TransactionalCategories {
  findById(id: string): Promise<Category | null>;
  findBySlug(slug: string): Promise<Category | null>;
  /** Ids from the category's parent up to the root. */
  ancestorIds(id: string): Promise<string[]>;
  insert(category: CategoryDetails & { id: string }): Promise<Category>;
  update(id: string, changes: Partial<CategoryDetails>): Promise<Category>;
}

export interface TransactionalStock {
  /** Locks the stock rows of these products (in id order, so concurrent callers cannot deadlock). */
  lock(productIds: readonly string[]): Promise<Map<string, StockForReservation>>;
  /** Writes new levels for rows locked by `lock`. */
  save(levels: ReadonlyMap<string, StockLevel>): Promise<void>;
  recordAdjustment(adjustment: {
    productId: string;
    delta: number;
    reason: string;
    actorId: string | null;
    onHand: number;
  }): Promise<void>;
}

export interface TransactionalReservations {
  /** Creates the order's reservation row if none exists ('claimed'), else returns the existing one, locked. */
  claim(orderId: string): Promise<'claimed' | Reservation>;
  findForUpdate(orderId: string): Promise<Reservation | null>;
  save(reservation: Reservation): Promise<void>;
}

export interface CatalogTransaction {
  products: TransactionalProducts;
  categories: TransactionalCategories;
  stock: TransactionalStock;
  reservations: TransactionalReservations;
  /** Appends events to the outbox: they are published if and only if the transaction commits. */
  publish(events: readonly CatalogEvent[], cause?: EventCause): Promise<void>;
}

export interface CatalogStore {
  transaction<T>(work: (tx: CatalogTransaction) => Promise<T>): Promise<T>;
}
