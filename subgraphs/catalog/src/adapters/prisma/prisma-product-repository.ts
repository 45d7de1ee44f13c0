import { Prisma, type PrismaClient } from '../../generated/prisma/client.ts';
import type { ProductFilter, ProductPosition, ProductSort } from '../../domain/listing.ts';
import type { Product } from '../../domain/product.ts';
import type { ListedProduct, ProductPageQuery, ProductRepository } from '../../ports/product-repository.ts';
import { PRODUCT_COLUMNS, PRODUCTS_WITH_STOCK, selectProducts, toProduct, type ProductRow } from './product-rows.ts';

const { sql, join, empty } = Prisma;

/** Full-text query of a search string; websearch syntax ("quoted phrases", -exclusions) never fails to parse. */
const tsQuery = (search: string) => sql`websearch_to_tsquery('english', ${search})`;
/** float8 so the rank survives a round trip through a cursor exactly. */
const rankOf = (search: string) => sql`ts_rank(p.search_vector, ${tsQuery(search)})::float8`;

/** Listing, search and lookups in single SQL statements (one per call, whatever the page size). */
export class PrismaProductRepository implements ProductRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async page({ filter, sort, after, limit }: ProductPageQuery): Promise<ListedProduct[]> {
    const order = sortOrder(sort, filter);
    const conditions = [...filterConditions(filter), ...(after ? [order.after(after)] : [])];
    const rows = await this.prisma.$queryRaw<(ProductRow & { rank: number | null })[]>(sql`
      SELECT ${PRODUCT_COLUMNS}, ${order.rank} AS rank
      FROM ${PRODUCTS_WITH_STOCK}
      ${whereAll(conditions)}
      ORDER BY ${order.orderBy}
      LIMIT ${limit}`);
    return rows.map((row) => {
      const product = toProduct(row);
      return { product, position: order.positionOf(product, row.rank) };
    });
  }

  async count(filter: ProductFilter): Promise<number> {
    const [row] = await this.prisma.$queryRaw<{ count: number }[]>(
      sql`SELECT count(*)::int AS count FROM ${PRODUCTS_WITH_STOCK} ${whereAll(filterConditions(filter))}`,
    );
    return row?.count ?? 0;
  }

  async findByIds(ids: readonly string[]): Promise<Product[]> {
    if (ids.length === 0) return [];
    return selectProducts(this.prisma, sql`p.id IN (${join(ids.map((id) => sql`${id}::uuid`))})`);
  }

  async findBySlug(slug: string): Promise<Product | null> {
    const [product] = await selectProducts(this.prisma, sql`p.slug = ${slug}`);
    return product ?? null;
  }
}

function whereAll(conditions: Prisma.Sql[]): Prisma.Sql {
  return conditions.length > 0 ? sql`WHERE ${join(conditions, ' AND ')}` : empty;
}

export function filterConditions(filter: ProductFilter): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (!filter.includeArchived) conditions.push(sql`p.status = 'ACTIVE'`);
  if (filter.search) conditions.push(sql`p.search_vector @@ ${tsQuery(filter.search)}`);
  if (filter.categoryId) {
    // The category and everything below it, walked in the same statement.
    conditions.push(sql`p.category_id IN (
      WITH RECURSIVE subtree(id) AS (
        SELECT id FROM categories WHERE id = ${filter.categoryId}::uuid
        UNION ALL
        SELECT c.id FROM categories c JOIN subtree ON c.parent_id = subtree.id
      )
      SELECT id FROM subtree)`);
  }
  if (filter.minPriceCents !== null) conditions.push(sql`p.price_cents >= ${filter.minPriceCents}`);
  if (filter.maxPriceCents !== null) conditions.push(sql`p.price_cents <= ${filter.maxPriceCents}`);
  if (filter.inStock === true) conditions.push(sql`COALESCE(s.on_hand - s.reserved, 0) > 0`);
  if (filter.inStock === false) conditions.push(sql`COALESCE(s.on_hand - s.reserved, 0) <= 0`);
  return conditions;
}

interface SortOrder {
  rank: Prisma.Sql;
  orderBy: Prisma.Sql;
  after(position: ProductPosition): Prisma.Sql;
  positionOf(product: Product, rank: number | null): ProductPosition;
}

/**
 * Each order ends with the id, so it is total: ties (same price, same rank) keep a fixed order and
 * the row comparison `(key, id) > (cursor key, cursor id)` continues exactly after the last row seen.
 */
function sortOrder(sort: ProductSort, filter: ProductFilter): SortOrder {
  const noRank = sql`NULL::float8`;
  switch (sort) {
    case 'NEWEST':
      return {
        rank: noRank,
        orderBy: sql`p.created_at DESC, p.id DESC`,
        after: (position) =>
          sql`(p.created_at, p.id) < (${positionFor(position, 'NEWEST').createdAt}::timestamptz, ${position.id}::uuid)`,
        positionOf: (product) => ({ sort, createdAt: product.createdAt.toISOString(), id: product.id }),
      };
    case 'PRICE_ASC':
    case 'PRICE_DESC': {
      const ascending = sort === 'PRICE_ASC';
      return {
        rank: noRank,
        orderBy: ascending ? sql`p.price_cents ASC, p.id ASC` : sql`p.price_cents DESC, p.id DESC`,
        after: (position) => {
          const { priceCents, id } = positionFor(position, sort);
          return ascending
            ? sql`(p.price_cents, p.id) > (${priceCents}, ${id}::uuid)`
            : sql`(p.price_cents, p.id) < (${priceCents}, ${id}::uuid)`;
        },
        positionOf: (product) => ({ sort, priceCents: product.price.amountCents, id: product.id }),
      };
    }
    case 'NAME':
      return {
        rank: noRank,
        orderBy: sql`p.name ASC, p.id ASC`,
        after: (position) => sql`(p.name, p.id) > (${positionFor(position, 'NAME').name}, ${position.id}::uuid)`,
        positionOf: (product) => ({ sort, name: product.name, id: product.id }),
      };
    case 'RELEVANCE': {
      if (!filter.search) throw new Error('RELEVANCE needs a search');
      const rank = rankOf(filter.search);
      return {
        rank,
        orderBy: sql`rank DESC, p.id DESC`,
        after: (position) => sql`(${rank}, p.id) < (${positionFor(position, 'RELEVANCE').rank}::float8, ${position.id}::uuid)`,
        positionOf: (product, value) => ({ sort, rank: value ?? 0, id: product.id }),
      };
    }
  }
}

function positionFor<Sort extends ProductSort>(position: ProductPosition, sort: Sort): Extract<ProductPosition, { sort: Sort }> {
  if (position.sort !== sort) throw new Error(`cursor of ${position.sort} used for ${sort}`);
  return position as Extract<ProductPosition, { sort: Sort }>;
}
