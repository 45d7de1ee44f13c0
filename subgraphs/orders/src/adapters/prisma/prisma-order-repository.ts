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

const statusOf = (value: string): OrderStatus => {
  if (!isOrderStatus(value)) throw new Error(`unknown order status in the database: ${value}`);
  return value;
};

export function toOrder(row: OrderRow): Order {
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
      include: withDetails,
    });
    return toOrder(row);
  }

  async lock(id: string): Promise<Order | null> {
    const locked = await this.db.$queryRaw<{ id: string }[]>`SELECT id FROM orders WHERE id = ${id}::uuid FOR UPDATE`;
    if (locked.length === 0) return null;
    const row = await this.db.order.findUnique({ where: { id }, include: withDetails });
    return row ? toOrder(row) : null;
  }

  async update(order: Order, previousVersion: number, appended: StatusChange[]): Promise<void> {
    await this.updateRow(order, previousVersion);
    if (appended.length > 0) {
      await this.db.orderStatusChange.createMany({
        data: appended.map((change) => ({ orderId: order.id, ...historyRow(change) })),
      });
    }
  }

  async updatePrices(order: Order, previousVersion: number): Promise<void> {
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
