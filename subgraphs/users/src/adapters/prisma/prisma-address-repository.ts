import type { Address as AddressRow, PrismaClient } from '../../generated/prisma/client.ts';
import type { Address, AddressFields } from '../../domain/address.ts';
import { isUuid } from './ids.ts';
import type { AddressRepository } from '../../ports/address-repository.ts';

type RowWithDefault = AddressRow & { defaultOf: { id: string } | null };

const withDefault = { defaultOf: { select: { id: true } } } as const;

function toAddress(row: RowWithDefault): Address {
  return {
    id: row.id,
    userId: row.userId,
    label: row.label,
    recipientName: row.recipientName,
    line1: row.line1,
    line2: row.line2,
    city: row.city,
    region: row.region,
    postalCode: row.postalCode,
    country: row.country,
    phone: row.phone,
    isDefault: row.defaultOf !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export class PrismaAddressRepository implements AddressRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async listByUserIds(userIds: readonly string[]): Promise<Address[]> {
    const rows = await this.prisma.address.findMany({
      where: { userId: { in: [...userIds] } },
      include: withDefault,
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    });
    return rows.map(toAddress).sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
  }

  async findById(id: string): Promise<Address | null> {
    if (!isUuid(id)) return null;
    const row = await this.prisma.address.findUnique({ where: { id }, include: withDefault });
    return row ? toAddress(row) : null;
  }

  countByUser(userId: string): Promise<number> {
    return this.prisma.address.count({ where: { userId } });
  }

  async add(address: AddressFields & { id: string; userId: string }, makeDefault: boolean): Promise<Address> {
    return this.prisma.$transaction(async (tx) => {
      await tx.address.create({ data: address });
      if (makeDefault) await tx.user.update({ where: { id: address.userId }, data: { defaultAddressId: address.id } });
      return toAddress(await tx.address.findUniqueOrThrow({ where: { id: address.id }, include: withDefault }));
    });
  }

  async update(id: string, fields: AddressFields): Promise<Address> {
    return toAddress(await this.prisma.address.update({ where: { id }, data: fields, include: withDefault }));
  }

  async remove(id: string): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      const removed = await tx.address.delete({ where: { id }, include: withDefault });
      if (!removed.defaultOf) return;
      // The FK already cleared the pointer (ON DELETE SET NULL); promote the newest remaining address.
      const next = await tx.address.findFirst({
        where: { userId: removed.userId },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      });
      if (next) await tx.user.update({ where: { id: removed.userId }, data: { defaultAddressId: next.id } });
    });
  }

  async setDefault(userId: string, addressId: string): Promise<void> {
    await this.prisma.user.update({ where: { id: userId }, data: { defaultAddressId: addressId } });
  }
}
