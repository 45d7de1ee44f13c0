import { conflict } from '@commerce/platform';
import type { Prisma } from '../../generated/prisma/client.ts';
import type { NewOrder, Order, StatusChange, ActorType } from '../../domain/order.ts';
import { isOrderStatus, type OrderStatus } from '../../domain/order-status.ts';
import type { OrderFilter, OrderPageQuery, OrderRepository } from '../../ports/order-repository.ts';

/** A PrismaClient or the client of an interactive transaction. */
export type OrdersDb = Prisma.TransactionClient;

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

const historyRow = (change: StatusChange) => ({
  fromStatus: change.from,
  toStatus: change.to,
  reason: change.reason,
  actorType: change.actor.type,
  actorId: change.actor.id,
  at: change.at,
});

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
    const row = await this.db.order.create({
      data: {
        id: order.id,
        userId: order.userId,
        status: order.status,
        paymentMethodId: order.paymentMethodId,
        shippingAddressId: order.shippingAddressId,
        version: order.version,
        createdAt: order.createdAt,
        updatedAt: order.updatedAt,
        lines: {
          create: order.lines.map((line, position) => ({
            position,
            productId: line.productId,
            quantity: line.quantity,
            unitPriceCents: line.unitPriceCents,
          })),
        },
        history: { create: order.history.map(historyRow) },
      },
      // The lines and history are what we just wrote: only the number the database assigned comes back.
      select: { number: true },
    });
    return { ...order, number: row.number };
  }

  async lock(id: string): Promise<Order | null> {
    const remembered = this.locked.get(id);
    if (remembered) return remembered;
    const locked = await this.db.$queryRaw<{ id: string }[]>`SELECT id FROM orders WHERE id = ${id}::uuid FOR UPDATE`;
    if (locked.length === 0) return null;
    // A second statement, so it reads what the previous holder of the lock committed: the order with its
    // lines and history in one query (as Prisma's include would in three).
    const [row] = await this.db.$queryRaw<
      (Omit<OrderRecord, 'lines' | 'history'> & {
        lines: JsonColumn<OrderRecord['lines']>;
        history: JsonColumn<(Omit<OrderRecord['history'][number], 'at'> & { at: string })[]>;
      })[]
    >`
      SELECT o.id::text AS id, o.number, o.user_id AS "userId", o.status, o.payment_method_id AS "paymentMethodId",
             o.shipping_address_id AS "shippingAddressId", o.currency::text AS currency, o.subtotal_cents AS "subtotalCents",
             o.total_cents AS "totalCents", o.payment_id AS "paymentId", o.version, o.created_at AS "createdAt",
             o.updated_at AS "updatedAt",
             COALESCE((SELECT json_agg(json_build_object('productId', l.product_id, 'quantity', l.quantity,
                                                         'unitPriceCents', l.unit_price_cents) ORDER BY l.position)
                         FROM order_lines l WHERE l.order_id = o.id), '[]'::json) AS lines,
             COALESCE((SELECT json_agg(json_build_object('fromStatus', h.from_status, 'toStatus', h.to_status,
                                                         'reason', h.reason, 'actorType', h.actor_type,
                                                         'actorId', h.actor_id, 'at', h.at) ORDER BY h.sequence)
                         FROM order_status_changes h WHERE h.order_id = o.id), '[]'::json) AS history
        FROM orders o
       WHERE o.id = ${id}::uuid`;
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
    await this.updateRow(order, previousVersion);
    if (appended.length > 0) {
      await this.db.orderStatusChange.createMany({
        data: appended.map((change) => ({ orderId: order.id, ...historyRow(change) })),
      });
    }
  }

  async updatePrices(order: Order, previousVersion: number): Promise<void> {
    this.locked.delete(order.id);
    await this.updateRow(order, previousVersion);
    for (const line of order.lines) {
      await this.db.orderLine.updateMany({
        where: { orderId: order.id, productId: line.productId },
        data: { unitPriceCents: line.unitPriceCents },
      });
    }
  }

  private async updateRow(order: Order, previousVersion: number): Promise<void> {
    const { count } = await this.db.order.updateMany({
      where: { id: order.id, version: previousVersion },
      data: {
        status: order.status,
        paymentId: order.paymentId,
        currency: order.pricing?.currency ?? null,
        subtotalCents: order.pricing?.subtotalCents ?? null,
        totalCents: order.pricing?.totalCents ?? null,
        version: order.version,
        updatedAt: order.updatedAt,
      },
    });
    // Unreachable while callers lock the row first; kept so a caller that forgets cannot lose an update.
    if (count === 0) throw conflict('The order was changed by someone else; try again');
  }
}
