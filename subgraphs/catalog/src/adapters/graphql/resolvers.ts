import type { ResolverMap, SubgraphContextBase } from '@commerce/platform';
import type { Product } from '../../domain/product.ts';
import { listProducts, type ListProductsInput } from '../../application/list-products.ts';
import type { ProductRepository } from '../../ports/product-repository.ts';
import type { CatalogLoaders } from './loaders.ts';

export interface CatalogContext extends SubgraphContextBase {
  products: ProductRepository;
  loaders: CatalogLoaders;
}

export const resolvers: ResolverMap = {
  Query: {
    products: (_root: unknown, args: ListProductsInput, context: CatalogContext) => listProducts(context.products, args),
  },
  Product: {
    __resolveReference: (reference: { id: string }, context: CatalogContext) => context.loaders.productById.load(reference.id),
    createdAt: (product: Product) => product.createdAt.toISOString(),
    updatedAt: (product: Product) => product.updatedAt.toISOString(),
  },
};
