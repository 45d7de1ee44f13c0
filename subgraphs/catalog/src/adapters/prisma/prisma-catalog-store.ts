import { randomUUID } from 'node:crypto';
import { conflict } from '@commerce/platform';
import { Prisma, type PrismaClient } from '../../generated/prisma/client.ts';
import type { Category, CategoryDetails } from '../../domain/category.ts';
import type { CatalogEvent } from '../../domain/events.ts';
import type { Product, ProductChanges } from '../../domain/product.ts';
import type { PricedLine, Rejection, Reservation, ReservationStatus, StockForReservation } from '../../domain/reservation.ts';
import type { StockLevel } from '../../domain/stock.ts';
import type {
  CatalogStore,
  CatalogTransaction,
  EventCause,
  NewProduct,
  TransactionalCategories,
  TransactionalProducts,
  TransactionalReservations,
  TransactionalStock,
} from '../../ports/catalog-store.ts';
import { appendCatalogEvents } from '../events/catalog-outbox.ts';
import { toCategory } from './prisma-category-repository.ts';
import { selectProducts } from './product-rows.ts';

const { sql, join } = Prisma;
type Tx = Prisma.TransactionClient;

const json = (value: unknown) => value as Prisma.InputJsonValue;

export interface CatalogStoreOptions {
  /** How long a transaction may wait for a pooled connection, and run (ms). */
  maxWaitMs?: number;
  timeoutMs?: number;
  /** Called after every commit: outbox rows may be waiting (the relay publishes at once instead of at its next poll). */
  afterCommit?: () => void;
}

/** The unit of work on Prisma: one interactive transaction per use case. */
export class PrismaCatalogStore implements CatalogStore {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: CatalogStoreOptions = {},
  ) {}

  async transaction<T>(work: (tx: CatalogTransaction) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await this.prisma.$transaction((tx) => work(new PrismaCatalogTransaction(tx)), {
        maxWait: this.options.maxWaitMs ?? 10_000,
        timeout: this.options.timeoutMs ?? 20_000,
      });
    } catch (error) {
      throw uniqueViolationAsConflict(error);
    }
    this.options.afterCommit?.();
    return result;
  }
}

class PrismaCatalogTransaction implements CatalogTransaction {
  readonly products: TransactionalProducts;
  readonly categories: TransactionalCategories;
  readonly stock: TransactionalStock;
  readonly reservations: TransactionalReservations;

  constructor(private readonly tx: Tx) {
    this.products = new TxProducts(tx);
    this.categories = new TxCategories(tx);
    this.stock = new TxStock(tx);
    this.reservations = new TxReservations(tx);
  }

  publish(events: readonly CatalogEvent[], cause?: EventCause): Promise<void> {
    return appendCatalogEvents(this.tx, events, cause);
  }
}

class TxProducts implements TransactionalProducts {
  constructor(private readonly tx: Tx) {}

  async findById(id: string, options: { forUpdate?: boolean } = {}): Promise<Product | null> {
    const [product] = await selectProducts(
      this.tx,
      sql`p.id = ${id}::uuid`,
      options.forUpdate ? sql`FOR UPDATE OF p` : Prisma.empty,
    );
    return product ?? null;
  }

  async findTaken(values: { sku?: string; slug?: string }, exceptProductId?: string) {
    const alternatives = [
      ...(values.sku !== undefined ? [{ sku: values.sku }] : []),
      ...(values.slug !== undefined ? [{ slug: values.slug }] : []),
    ];
    if (alternatives.length === 0) return { sku: false, slug: false };
    const clashes = await this.tx.product.findMany({
      where: { OR: alternatives, ...(exceptProductId ? { NOT: { id: exceptProductId } } : {}) },
      select: { sku: true, slug: true },
    });
    return {
      sku: values.sku !== undefined && clashes.some((row) => row.sku === values.sku),
      slug: values.slug !== undefined && clashes.some((row) => row.slug === values.slug),
    };
  }

  async insert(product: NewProduct): Promise<Product> {
    await this.tx.product.create({
      data: {
        id: product.id,
        sku: product.sku,
        slug: product.slug,
        name: product.name,
        description: product.description,
        priceCents: product.price.amountCents,
        currency: product.price.currency,
        images: json(product.images),
        attributes: json(product.attributes),
        categoryId: product.categoryId,
        stock: { create: { onHand: product.onHand } },
      },
    });
    return (await this.findById(product.id))!;
  }

  async updateIfVersion(
    id: string,
    expectedVersion: number,
    changes: ProductChanges & { status?: Product['status'] },
  ): Promise<Product | null> {
    const data: Prisma.ProductUncheckedUpdateManyInput = { version: { increment: 1 } };
    if (changes.sku !== undefined) data.sku = changes.sku;
    if (changes.slug !== undefined) data.slug = changes.slug;
    if (changes.name !== undefined) data.name = changes.name;
    if (changes.description !== undefined) data.description = changes.description;
    if (changes.price !== undefined) {
      data.priceCents = changes.price.amountCents;
      data.currency = changes.price.currency;
    }
    if (changes.images !== undefined) data.images = json(changes.images);
    if (changes.attributes !== undefined) data.attributes = json(changes.attributes);
    if (changes.categoryId !== undefined) data.categoryId = changes.categoryId;
    if (changes.status !== undefined) data.status = changes.status;
    const { count } = await this.tx.product.updateMany({ where: { id, version: expectedVersion }, data });
    return count === 0 ? null : this.findById(id);
  }
}

class TxCategories implements TransactionalCategories {
  constructor(private readonly tx: Tx) {}

  async findById(id: string): Promise<Category | null> {
    const row = await this.tx.category.findUnique({ where: { id } });
    return row ? toCategory(row) : null;
  }

  async findBySlug(slug: string): Promise<Category | null> {
    const row = await this.tx.category.findUnique({ where: { slug } });
    return row ? toCategory(row) : null;
  }

  async ancestorIds(id: string): Promise<string[]> {
    const rows = await this.tx.$queryRaw<{ id: string }[]>(sql`
      WITH RECURSIVE up(id, parent_id, depth) AS (
        SELECT id, parent_id, 0 FROM categories WHERE id = ${id}::uuid
        UNION ALL
        SELECT c.id, c.parent_id, up.depth + 1 FROM categories c JOIN up ON c.id = up.parent_id WHERE up.depth < 100
      )
      SELECT id::text AS id FROM up WHERE depth > 0 ORDER BY depth`);
    return rows.map((row) => row.id);
  }

  async insert(category: CategoryDetails & { id: string }): Promise<Category> {
    return toCategory(await this.tx.category.create({ data: category }));
  }

  async update(id: string, changes: Partial<CategoryDetails>): Promise<Category> {
    return toCategory(await this.tx.category.update({ where: { id }, data: changes }));
  }
}

class TxStock implements TransactionalStock {
  constructor(private readonly tx: Tx) {}

  async lock(productIds: readonly string[]): Promise<Map<string, StockForReservation>> {
    if (productIds.length === 0) return new Map();
    // ORDER BY + FOR UPDATE: rows are locked in product id order, the same in every transaction.
    const rows = await this.tx.$queryRaw<
      { product_id: string; on_hand: number; reserved: number; status: string; price_cents: number; currency: string }[]
    >(sql`
      SELECT s.product_id::text AS product_id, s.on_hand, s.reserved, p.status::text AS status, p.price_cents, p.currency
      FROM stock s JOIN products p ON p.id = s.product_id
      WHERE s.product_id IN (${join(productIds.map((id) => sql`${id}::uuid`))})
      ORDER BY s.product_id
      FOR UPDATE OF s`);
    return new Map(
      rows.map((row) => [
        row.product_id,
        {
          productId: row.product_id,
          status: row.status === 'ARCHIVED' ? 'ARCHIVED' : 'ACTIVE',
          price: { amountCents: row.price_cents, currency: row.currency.trim() },
          stock: { onHand: row.on_hand, reserved: row.reserved },
        },
      ]),
    );
  }

  async save(levels: ReadonlyMap<string, StockLevel>): Promise<void> {
    if (levels.size === 0) return;
    const values = [...levels].map(
      ([productId, level]) => sql`(${productId}::uuid, ${level.onHand}::int, ${level.reserved}::int)`,
    );
    await this.tx.$executeRaw(sql`
      UPDATE stock AS s SET on_hand = v.on_hand, reserved = v.reserved, updated_at = now()
      FROM (VALUES ${join(values)}) AS v(product_id, on_hand, reserved)
      WHERE s.product_id = v.product_id`);
  }

  async recordAdjustment(adjustment: {
    productId: string;
    delta: number;
    reason: string;
    actorId: string | null;
    onHand: number;
  }): Promise<void> {
    await this.tx.stockAdjustment.create({ data: { id: randomUUID(), ...adjustment } });
  }
}

interface ReservationRow {
  order_id: string;
  status: string;
  lines: unknown;
  total_cents: number | null;
  currency: string | null;
  reason: unknown;
}

class TxReservations implements TransactionalReservations {
  constructor(private readonly tx: Tx) {}

  async claim(orderId: string): Promise<'claimed' | Reservation> {
    // A concurrent claim of the same order waits here until the first transaction ends, then finds its row.
    const inserted = await this.tx.$queryRaw<{ order_id: string }[]>(sql`
      INSERT INTO stock_reservations (order_id, status, lines, updated_at)
      VALUES (${orderId}, 'RELEASED', '[]'::jsonb, now())
      ON CONFLICT (order_id) DO NOTHING
      RETURNING order_id`);
    if (inserted.length > 0) return 'claimed';
    return (await this.findForUpdate(orderId))!;
  }

  async findForUpdate(orderId: string): Promise<Reservation | null> {
    const [row] = await this.tx.$queryRaw<ReservationRow[]>(sql`
      SELECT order_id, status::text AS status, lines, total_cents, currency, reason
      FROM stock_reservations WHERE order_id = ${orderId} FOR UPDATE`);
    if (!row) return null;
    return {
      orderId: row.order_id,
      status: row.status as ReservationStatus,
      lines: (row.lines ?? []) as PricedLine[],
      total:
        row.total_cents === null || row.currency === null
          ? null
          : { amountCents: row.total_cents, currency: row.currency.trim() },
      rejection: (row.reason ?? null) as Rejection | null,
    };
  }

  async save(reservation: Reservation): Promise<void> {
    await this.tx.stockReservation.update({
      where: { orderId: reservation.orderId },
      data: {
        status: reservation.status,
        lines: json(reservation.lines),
        totalCents: reservation.total?.amountCents ?? null,
        currency: reservation.total?.currency ?? null,
        reason: reservation.rejection ? json(reservation.rejection) : Prisma.DbNull,
      },
    });
  }
}

/** A unique index beat the use case's own check (two admins at once): still a clear CONFLICT. */
function uniqueViolationAsConflict(error: unknown): unknown {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002') return error;
  const detail = JSON.stringify(error.meta ?? {}) + error.message;
  const field = ['sku', 'slug'].find((name) => detail.includes(name));
  return conflict(field ? `${field} is already in use` : 'A unique value is already in use', field ? { field } : {});
}

/** The unit of work inside a transaction someone else opened (the saga consumer's inbox transaction). */
export function catalogStoreWithin(tx: Tx): CatalogStore {
  return { transaction: (work) => work(new PrismaCatalogTransaction(tx)) };
}
