import type { PrismaClient, Product as ProductRow } from '../../generated/prisma/client.ts';
import type { Product } from '../../domain/product.ts';
import type { ProductPageQuery, ProductRepository } from '../../ports/product-repository.ts';

export function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    slug: row.slug,
    name: row.name,
    description: row.description,
    price: { amountCents: row.priceCents, currency: row.currency },
    categoryId: row.categoryId,
    status: row.status === 'ARCHIVED' ? 'ARCHIVED' : 'ACTIVE',
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export class PrismaProductRepository implements ProductRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async listActive({ limit, after }: ProductPageQuery): Promise<Product[]> {
    const rows = await this.prisma.product.findMany({
      where: {
        status: 'ACTIVE',
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
    });
    return rows.map(toProduct);
  }

  countActive(): Promise<number> {
    return this.prisma.product.count({ where: { status: 'ACTIVE' } });
  }

  async findByIds(ids: readonly string[]): Promise<Product[]> {
    const rows = await this.prisma.product.findMany({ where: { id: { in: [...ids] } } });
    return rows.map(toProduct);
  }
}
