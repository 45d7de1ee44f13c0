import { badInput, type Viewer } from '@commerce/platform';
import { isVisibleToShoppers, type Product } from '../domain/product.ts';
import type { ProductRepository } from '../ports/product-repository.ts';
import { uuid } from './validation.ts';

export interface FindProductInput {
  id?: string | null;
  slug?: string | null;
}

/** `product(id | slug)`: exactly one of them. Archived products exist only for admins (null for anyone else). */
export async function findProduct(
  products: Pick<ProductRepository, 'findBySlug'>,
  byId: (id: string) => Promise<Product | null>,
  viewer: Viewer | null,
  input: FindProductInput,
): Promise<Product | null> {
  const hasId = input.id !== null && input.id !== undefined;
  const hasSlug = input.slug !== null && input.slug !== undefined;
  if (hasId === hasSlug) throw badInput(hasId ? 'slug' : 'id', 'Give exactly one of id or slug');
  // An id that is not a UUID is the client's mistake (BAD_USER_INPUT), not "not found"; it never reaches SQL.
  const product = hasId ? await byId(uuid('id', input.id)) : await products.findBySlug(input.slug!.trim());
  if (!product) return null;
  return isVisibleToShoppers(product) || viewer?.role === 'ADMIN' ? product : null;
}
