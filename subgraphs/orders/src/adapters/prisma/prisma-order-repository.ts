import { conflict } from '@commerce/platform';
import { Prisma } from '../../generated/prisma/client.ts';
import type { NewOrder, Order, StatusChange, ActorType } from '../../domain/order.ts';
import type { ShippingAddress } from '../../domain/shipping-address.ts';
import { isOrderStatus, type OrderStatus } from '../../domain/order-status.ts';
import type { OrderFilter, OrderPageQuery, OrderRepository } from '../../ports/order-repository.ts';

/** A PrismaClient or the client of an interactive transaction. */
export type OrdersDb = Prisma.TransactionClient;

const { sql, join, empty } = Prisma;

const withDetails = {
  lines: { orderBy: { position: 'asc' } },
  history: { orderBy: { sequence: 'asc' } },
} satisfies Prisma.OrderInclude;

type OrderRow = Prisma.OrderGetPayload<{ include: typeof withDetails }>;

/** The fields of an order row (with its lines and history) that make the domain Order. */
type OrderRecord = Omit<OrderRow, 'lines' | 'history'> & {
  lines: Pick<OrderRow['lines'][number], 'productId' | 'quantity' | 'unitPriceCents'>[];
  history: Pick<OrderRow['history'][number], 'fromStatus' | 'toStatus' | 'reason' | 'actorType' | 'actorId' | 'at'>[];
};

type JsonColumn<T> = T | string;
const fromJson = <T>(value: JsonColumn<T>): T => (typeof value === 'string' ? (JSON.parse(value) as T) : value);

const statusOf = (value: string): OrderStatus => {
  if (!isOrderStatus(value)) throw new Error(`unknown order status in the database: ${value}`);
  return value;
};

export function toOrder(row: OrderRecord): Order {
  return {
    id: row.id,
    number: row.number,
    userId: row.userId,
    status: statusOf(row.status),
    lines: row.lines.map((line) => ({ productId: line.productId, quantity: line.quantity, unitPriceCents: line.unitPriceCents })),
    pricing:
      row.currency !== null && row.subtotalCents !== null && row.totalCents !== null
        ? { currency: row.currency, subtotalCents: row.subtotalCents, totalCents: row.totalCents }
        : null,
    paymentMethodId: row.paymentMethodId,
    shippingAddressId: row.shippingAddressId,
    shippingAddress: row.shippingAddress === null ? null : fromJson(row.shippingAddress as JsonColumn<ShippingAddress>),
    paymentId: row.paymentId,
    history: row.history.map((change) => ({
      from: change.fromStatus === null ? null : statusOf(change.fromStatus),
      to: statusOf(change.toStatus),
      reason: change.reason,
      actor: { type: change.actorType as ActorType, id: change.actorId ?? '' },
      at: change.at,
    })),
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const whereOf = (filter: OrderFilter): Prisma.OrderWhereInput => ({
  ...(filter.userId !== undefined ? { userId: filter.userId } : {}),
  ...(filter.status !== undefined ? { status: filter.status } : {}),
});

export class PrismaOrderRepository implements OrderRepository {
  /**
   * Orders this transaction has locked, as read under the lock. Locking one order again in the same
   * transaction (the saga's PaymentCaptured step locks it, then confirmPayment does) cannot find it
   * changed, since every writer locks it first: no second round of queries. Writes forget the entry.
   */
  private readonly locked = new Map<string, Order>();

  constructor(private readonly db: OrdersDb) {}

  async findByIds(ids: readonly string[]): Promise<Order[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.order.findMany({ where: { id: { in: [...ids] } }, include: withDetails });
    return rows.map(toOrder);
  }

  async list({ filter, limit, after }: OrderPageQuery): Promise<Order[]> {
    const rows = await this.db.order.findMany({
      where: {
        ...whereOf(filter),
        ...(after
          ? {
              OR: [
                { createdAt: { lt: new Date(after.createdAt) } },
                { createdAt: new Date(after.createdAt), id: { gt: after.id } },
              ],
            }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: limit,
      include: withDetails,
    });
    return rows.map(toOrder);
  }

  count(filter: OrderFilter): Promise<number> {
    return this.db.order.count({ where: whereOf(filter) });
  }

  async insert(order: NewOrder): Promise<Order> {
    // The order, its lines and its first history entry in one statement (the rows the lines and history
    // reference are checked at its end); only the number the database assigned comes back.
    const lines = order.lines.map(
      (line, position) =>
        sql`(${order.id}::uuid, ${position}::int, ${line.productId}, ${line.quantity}::int, ${line.unitPriceCents}::int)`,
    );
    const history = historyValues(order.id, order.history);
    const [row] = await this.db.$queryRaw<{ number: number }[]>(sql`
      WITH inserted AS (
        INSERT INTO orders (id, user_id, status, payment_method_id, shipping_address_id, shipping_address, version, created_at, updated_at)
        VALUES (${order.id}::uuid, ${order.userId}, ${order.status}, ${order.paymentMethodId}, ${order.shippingAddressId},
                ${order.shippingAddress === null ? null : JSON.stringify(order.shippingAddress)}::jsonb,
                ${order.version}::int, ${order.createdAt}::timestamptz, ${order.updatedAt}::timestamptz)
        RETURNING number
      )${
        lines.length > 0
          ? sql`, lines AS (
        INSERT INTO order_lines (order_id, position, product_id, quantity, unit_price_cents) VALUES ${join(lines)}
      )`
          : empty
      }${
        history.length > 0
          ? sql`, history AS (
        INSERT INTO order_status_changes (order_id, from_status, to_status, reason, actor_type, actor_id, at)
        VALUES ${join(history)}
      )`
          : empty
      }
      SELECT number FROM inserted`);
    return { ...order, number: Number(row!.number) };
  }

  async lock(id: string): Promise<Order | null> {
    const remembered = this.locked.get(id);
    if (remembered) return remembered;
    let [row] = await this.db.$queryRaw<LockedRow[]>(sql`${selectWithDetails(id)} FOR UPDATE OF o`);
    if (!row) return null;
    // The lines and history above were read with the statement's snapshot, taken before it waited for the
    // lock. Every writer of lines or history also raises the order's version in the same transaction, so
    // if the version in that snapshot is the locked one, nothing committed in between: they are current.
    // Otherwise (the lock was contended) read again, in a statement that sees the previous holder's work.
    if (row.snapshotVersion !== row.version) [row] = await this.db.$queryRaw<LockedRow[]>(selectWithDetails(id));
    if (!row) return null;
    const order = toOrder({
      ...row,
      lines: fromJson(row.lines),
      history: fromJson(row.history).map((change) => ({ ...change, at: new Date(change.at) })),
    });
    this.locked.set(id, order);
    return order;
  }

  async update(order: Order, previousVersion: number, appended: StatusChange[]): Promise<void> {
    this.locked.delete(order.id);
    const history = historyValues(order.id, appended);
    // The row and its new history entries in one statement; the entries are written only if the row was.
    await this.updateRow(
      order,
      previousVersion,
      history.length > 0
        ? sql`, history AS (
        INSERT INTO order_status_changes (order_id, from_status, to_status, reason, actor_type, actor_id, at)
        SELECT v.* FROM (VALUES ${join(history)}) AS v(order_id, from_status, to_status, reason, actor_type, actor_id, at)
        WHERE EXISTS (SELECT 1 FROM updated)
      )`
        : empty,
    );
  }

  async updatePrices(order: Order, previousVersion: number): Promise<void> {
    this.locked.delete(order.id);
    const prices = order.lines.map((line) => sql`(${line.productId}, ${line.unitPriceCents}::int)`);
    // The row and its lines' prices in one statement; the lines change only if the row did.
    await this.updateRow(
      order,
      previousVersion,
      prices.length > 0
        ? sql`, priced AS (
        UPDATE order_lines AS l SET unit_price_cents = v.unit_price_cents
          FROM (VALUES ${join(prices)}) AS v(product_id, unit_price_cents), updated
         WHERE l.order_id = updated.id AND l.product_id = v.product_id
      )`
        : empty,
    );
  }

  /** Writes the order row if it still has `previousVersion`, with `also` (more CTEs that may use `updated`). */
  private async updateRow(order: Order, previousVersion: number, also: Prisma.Sql): Promise<void> {
    const [result] = await this.db.$queryRaw<{ updated: number }[]>(sql`
      WITH updated AS (
        UPDATE orders
           SET status = ${order.status}, payment_id = ${order.paymentId}, currency = ${order.pricing?.currency ?? null},
               subtotal_cents = ${order.pricing?.subtotalCents ?? null}::int, total_cents = ${order.pricing?.totalCents ?? null}::int,
               version = ${order.version}::int, updated_at = ${order.updatedAt}::timestamptz
         WHERE id = ${order.id}::uuid AND version = ${previousVersion}::int
        RETURNING id
      )${also}
      SELECT count(*)::int AS updated FROM updated`);
    // Unreachable while callers lock the row first; kept so a caller that forgets cannot lose an update.
    if (Number(result?.updated ?? 0) === 0) throw conflict('The order was changed by someone else; try again');
  }
}

/** History entries as `VALUES` rows, in the column order (order_id, from_status, to_status, reason, actor_type, actor_id, at). */
const historyValues = (orderId: string, changes: readonly StatusChange[]): Prisma.Sql[] =>
  changes.map(
    (change) =>
      sql`(${orderId}::uuid, ${change.from}, ${change.to}, ${change.reason}, ${change.actor.type}, ${change.actor.id}, ${change.at}::timestamptz)`,
  );

type LockedRow = Omit<OrderRecord, 'lines' | 'history'> & {
  snapshotVersion: number;
  lines: JsonColumn<OrderRecord['lines']>;
  history: JsonColumn<(Omit<OrderRecord['history'][number], 'at'> & { at: string })[]>;
};

/** The order with its lines and history in one query (as Prisma's include would in three). */
function selectWithDetails(id: string): Prisma.Sql {
  return sql`
      SELECT o.id::text AS id, o.number, o.user_id AS "userId", o.status, o.payment_method_id AS "paymentMethodId",
             o.shipping_address_id AS "shippingAddressId", o.shipping_address AS "shippingAddress", o.currency::text AS currency, o.subtotal_cents AS "subtotalCents",
             o.total_cents AS "totalCents", o.payment_id AS "paymentId", o.version, o.created_at AS "createdAt",
             o.updated_at AS "updatedAt",
             (SELECT s.version FROM orders s WHERE s.id = o.id) AS "snapshotVersion",
             COALESCE((SELECT json_agg(json_build_object('productId', l.product_id, 'quantity', l.quantity,
                                                         'unitPriceCents', l.unit_price_cents) ORDER BY l.position)
                         FROM order_lines l WHERE l.order_id = o.id), '[]'::json) AS lines,
             COALESCE((SELECT json_agg(json_build_object('fromStatus', h.from_status, 'toStatus', h.to_status,
                                                         'reason', h.reason, 'actorType', h.actor_type,
                                                         'actorId', h.actor_id, 'at', h.at) ORDER BY h.sequence)
                         FROM order_status_changes h WHERE h.order_id = o.id), '[]'::json) AS history
        FROM orders o
       WHERE o.id = ${id}::uuid`;
}
