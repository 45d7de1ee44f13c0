import type { Category as CategoryRow, PrismaClient } from '../../generated/prisma/client.ts';
import type { Category } from '../../domain/category.ts';
import type { CategoryRepository } from '../../ports/category-repository.ts';

export function toCategory(row: CategoryRow): Category {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    parentId: row.parentId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export class PrismaCategoryRepository implements CategoryRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async findByIds(ids: readonly string[]): Promise<Category[]> {
    if (ids.length === 0) return [];
    return (await this.prisma.category.findMany({ where: { id: { in: [...ids] } } })).map(toCategory);
  }

  async findBySlug(slug: string): Promise<Category | null> {
    const row = await this.prisma.category.findUnique({ where: { slug } });
    return row ? toCategory(row) : null;
  }

  async findChildren(parentIds: readonly string[]): Promise<Category[]> {
    if (parentIds.length === 0) return [];
    const rows = await this.prisma.category.findMany({
      where: { parentId: { in: [...parentIds] } },
      orderBy: [{ name: 'asc' }, { id: 'asc' }],
    });
    return rows.map(toCategory);
  }

  async findRoots(): Promise<Category[]> {
    return (await this.prisma.category.findMany({ where: { parentId: null }, orderBy: [{ name: 'asc' }, { id: 'asc' }] })).map(
      toCategory,
    );
  }
}
