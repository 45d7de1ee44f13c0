import { decodeCursor, encodeCursor, pageSize, toConnection, type Connection } from '@commerce/platform';
import type { Product } from '../domain/product.ts';
import type { ProductCursor, ProductRepository } from '../ports/product-repository.ts';

export interface ListProductsInput {
  first?: number | null;
  after?: string | null;
}

const isProductCursor = (value: unknown): value is ProductCursor =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as ProductCursor).id === 'string' &&
  typeof (value as ProductCursor).createdAt === 'string' &&
  !Number.isNaN(Date.parse((value as ProductCursor).createdAt));

const cursorOf = (product: Product) => encodeCursor({ createdAt: product.createdAt.toISOString(), id: product.id });

/** The storefront's product listing: active products only, as a cursor connection. */
export async function listProducts(products: ProductRepository, input: ListProductsInput): Promise<Connection<Product>> {
  const size = pageSize(input.first);
  const after = input.after ? decodeCursor(input.after, isProductCursor) : null;
  const rows = await products.listActive({ limit: size + 1, after });
  return toConnection(rows, size, cursorOf, () => products.countActive(), after !== null);
}
