/**
 * Products are read with raw SQL (joined with their stock, one statement) so listing, search and
 * batched lookups share one row shape. Writes go through the typed Prisma client.
 */
import { Prisma } from '../../generated/prisma/client.ts';
import type { Product, ProductAttribute, ProductImage, ProductStatus } from '../../domain/product.ts';

export interface ProductRow {
  id: string;
  sku: string;
  slug: string;
  name: string;
  description: string;
  price_cents: number;
  currency: string;
  images: unknown;
  attributes: unknown;
  category_id: string | null;
  status: string;
  version: number;
  on_hand: number;
  reserved: number;
  created_at: Date;
  updated_at: Date;
}

/** Columns of `products p LEFT JOIN stock s` every product read selects. */
export const PRODUCT_COLUMNS = Prisma.sql`
  p.id::text AS id, p.sku, p.slug, p.name, p.description, p.price_cents, p.currency, p.images, p.attributes,
  p.category_id::text AS category_id, p.status::text AS status, p.version,
  COALESCE(s.on_hand, 0) AS on_hand, COALESCE(s.reserved, 0) AS reserved, p.created_at, p.updated_at`;

export const PRODUCTS_WITH_STOCK = Prisma.sql`products p LEFT JOIN stock s ON s.product_id = p.id`;

export function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    slug: row.slug,
    name: row.name,
    description: row.description,
    price: { amountCents: row.price_cents, currency: row.currency.trim() },
    images: Array.isArray(row.images) ? (row.images as ProductImage[]) : [],
    attributes: Array.isArray(row.attributes) ? (row.attributes as ProductAttribute[]) : [],
    categoryId: row.category_id,
    status: row.status as ProductStatus,
    version: row.version,
    stock: { onHand: row.on_hand, reserved: row.reserved },
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

/** Anything with `$queryRaw`: the client or a transaction client. */
export interface RawQueryable {
  $queryRaw<T = unknown>(query: Prisma.Sql): Prisma.PrismaPromise<T>;
}

export async function selectProducts(db: RawQueryable, where: Prisma.Sql, suffix: Prisma.Sql = Prisma.empty): Promise<Product[]> {
  const rows = await db.$queryRaw<ProductRow[]>(
    Prisma.sql`SELECT ${PRODUCT_COLUMNS} FROM ${PRODUCTS_WITH_STOCK} WHERE ${where} ${suffix}`,
  );
  return rows.map(toProduct);
}
