import { afterCreatedAtCursor, type CreatedAtCursor } from '@commerce/platform';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { PaymentMethod } from '../../domain/payment-method.ts';
import type {
  ChargeablePaymentMethod,
  NewPaymentMethod,
  PaymentMethodRepository,
} from '../../ports/payment-method-repository.ts';

interface PaymentMethodRow {
  id: string;
  userId: string;
  providerToken: string | null;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  createdAt: Date;
  removedAt: Date | null;
  defaultOf: { userId: string } | null;
}

const withDefault = { defaultOf: { select: { userId: true } } } as const;

/** The token is deliberately not part of the domain object: only charging needs it. */
export function toPaymentMethod(row: PaymentMethodRow): PaymentMethod {
  return {
    id: row.id,
    userId: row.userId,
    brand: row.brand,
    last4: row.last4,
    expMonth: row.expMonth,
    expYear: row.expYear,
    isDefault: row.defaultOf !== null,
    createdAt: row.createdAt,
    removedAt: row.removedAt,
  };
}

export class PrismaPaymentMethodRepository implements PaymentMethodRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async add(method: NewPaymentMethod, makeDefault: boolean): Promise<PaymentMethod> {
    return this.prisma.$transaction(async (tx) => {
      await tx.paymentMethod.create({
        data: {
          id: method.id,
          userId: method.userId,
          providerToken: method.providerToken,
          brand: method.brand,
          last4: method.last4,
          expMonth: method.expMonth,
          expYear: method.expYear,
        },
      });
      if (makeDefault) {
        await tx.defaultPaymentMethod.upsert({
          where: { userId: method.userId },
          create: { userId: method.userId, paymentMethodId: method.id },
          update: { paymentMethodId: method.id },
        });
      } else {
        // A user's first card becomes their default; the primary key keeps it to one per user.
        await tx.defaultPaymentMethod.createMany({
          data: [{ userId: method.userId, paymentMethodId: method.id }],
          skipDuplicates: true,
        });
      }
      return toPaymentMethod(await tx.paymentMethod.findUniqueOrThrow({ where: { id: method.id }, include: withDefault }));
    });
  }

  countActive(userId: string): Promise<number> {
    return this.prisma.paymentMethod.count({ where: { userId, removedAt: null } });
  }

  async findByIds(ids: readonly string[]): Promise<PaymentMethod[]> {
    const rows = await this.prisma.paymentMethod.findMany({ where: { id: { in: [...ids] } }, include: withDefault });
    return rows.map(toPaymentMethod);
  }

  async findChargeable(id: string): Promise<ChargeablePaymentMethod | null> {
    // Once per charge: the method and whether it is its owner's default in one statement (the include would take two).
    const [row] = await this.prisma.$queryRaw<(Omit<PaymentMethodRow, 'defaultOf'> & { defaultOf: string | null })[]>`
      SELECT m.id::text AS id, m.user_id AS "userId", m.provider_token AS "providerToken", m.brand, m.last4::text AS last4,
             m.exp_month AS "expMonth", m.exp_year AS "expYear", m.created_at AS "createdAt", m.removed_at AS "removedAt",
             d.user_id AS "defaultOf"
        FROM payment_methods m LEFT JOIN default_payment_methods d ON d.payment_method_id = m.id
       WHERE m.id = ${id}::uuid`;
    if (!row) return null;
    const method = toPaymentMethod({ ...row, defaultOf: row.defaultOf === null ? null : { userId: row.defaultOf } });
    return { method, providerToken: row.providerToken };
  }

  async listActive(userId: string, { limit, after }: { limit: number; after: CreatedAtCursor | null }): Promise<PaymentMethod[]> {
    const rows = await this.prisma.paymentMethod.findMany({
      where: { userId, removedAt: null, ...afterCreatedAtCursor(after, 'desc') },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: limit,
      include: withDefault,
    });
    return rows.map(toPaymentMethod);
  }

  async remove(userId: string, id: string): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const removed = await tx.paymentMethod.updateMany({
        where: { id, userId, removedAt: null },
        data: { removedAt: new Date(), providerToken: null },
      });
      if (removed.count === 0) return false;
      const wasDefault = await tx.defaultPaymentMethod.deleteMany({ where: { userId, paymentMethodId: id } });
      if (wasDefault.count > 0) {
        const next = await tx.paymentMethod.findFirst({
          where: { userId, removedAt: null },
          orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
          select: { id: true },
        });
        if (next)
          await tx.defaultPaymentMethod.createMany({ data: [{ userId, paymentMethodId: next.id }], skipDuplicates: true });
      }
      return true;
    });
  }

  async setDefault(userId: string, id: string): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const method = await tx.paymentMethod.findFirst({ where: { id, userId, removedAt: null }, select: { id: true } });
      if (!method) return false;
      await tx.defaultPaymentMethod.upsert({
        where: { userId },
        create: { userId, paymentMethodId: id },
        update: { paymentMethodId: id },
      });
      return true;
    });
  }
}
