import { randomBytes } from 'node:crypto';
import type { Connection, ResolverMap, SubgraphContextBase } from '@commerce/platform';
import { requireAdmin } from '@commerce/platform';
import type { Category } from '../../domain/category.ts';
import type { Product } from '../../domain/product.ts';
import { availableUnits, isInStock, type StockLevel } from '../../domain/stock.ts';
import { adjustStock, type AdjustStockInput } from '../../application/adjust-stock.ts';
import { archiveProduct } from '../../application/archive-product.ts';
import { createCategory, type CreateCategoryInput } from '../../application/create-category.ts';
import { createProduct, type CreateProductInput } from '../../application/create-product.ts';
import { findProduct, type FindProductInput } from '../../application/find-product.ts';
import { findCategory, type FindCategoryInput } from '../../application/find-category.ts';
import { listCategoryProducts, listProducts, type ListProductsInput } from '../../application/list-products.ts';
import { updateCategory, type UpdateCategoryInput } from '../../application/update-category.ts';
import { updateProduct, type UpdateProductInput } from '../../application/update-product.ts';
import type { CatalogStore, EventCause } from '../../ports/catalog-store.ts';
import type { CategoryRepository } from '../../ports/category-repository.ts';
import type { ProductRepository } from '../../ports/product-repository.ts';
import type { CatalogLoaders } from './loaders.ts';

export interface CatalogContext extends SubgraphContextBase {
  products: ProductRepository;
  categories: CategoryRepository;
  store: CatalogStore;
  loaders: CatalogLoaders;
}

/** Events caused by a request carry its request id as correlation id and its trace. */
function causeOf(context: CatalogContext): EventCause {
  return {
    correlationId: context.request.requestId,
    traceparent: `00-${context.request.traceId}-${randomBytes(8).toString('hex')}-01`,
  };
}

interface CacheControlInfo {
  cacheControl?: { setCacheHint(hint: { maxAge?: number; scope?: 'PUBLIC' | 'PRIVATE' }): void };
}

/** An admin may see archived products: such an answer must never be cached for everyone. */
function privateForAdmins(context: CatalogContext, info: CacheControlInfo): void {
  if (context.viewer?.role === 'ADMIN') info.cacheControl?.setCacheHint({ maxAge: 0, scope: 'PRIVATE' });
}

const iso = (date: Date) => date.toISOString();

/** Later lookups of the same products in this request (federation, nested fields) hit the loader cache. */
function primed(context: CatalogContext, connection: Connection<Product>): Connection<Product> {
  for (const product of connection.nodes) context.loaders.productById.prime(product.id, product);
  return connection;
}

export const resolvers: ResolverMap = {
  Query: {
    product: (_root: unknown, args: FindProductInput, context: CatalogContext, info: CacheControlInfo) => {
      privateForAdmins(context, info);
      return findProduct(context.products, (id) => context.loaders.productById.load(id), context.viewer, args);
    },
    products: async (_root: unknown, args: ListProductsInput, context: CatalogContext, info: CacheControlInfo) => {
      privateForAdmins(context, info);
      return primed(context, await listProducts(context.products, context.viewer, args));
    },
    categories: (_root: unknown, _args: unknown, context: CatalogContext) => context.categories.findRoots(),
    category: (_root: unknown, args: FindCategoryInput, context: CatalogContext) =>
      findCategory(context.categories, (id) => context.loaders.categoryById.load(id), args),
  },

  Mutation: {
    createProduct: (_root: unknown, args: { input: CreateProductInput }, context: CatalogContext) =>
      createProduct(context.store, context.viewer, args.input, causeOf(context)),
    updateProduct: (_root: unknown, args: { input: UpdateProductInput }, context: CatalogContext) =>
      updateProduct(context.store, context.viewer, args.input, causeOf(context)),
    adjustStock: (_root: unknown, args: AdjustStockInput, context: CatalogContext) =>
      adjustStock(context.store, context.viewer, args, causeOf(context)),
    archiveProduct: (_root: unknown, args: { id: string }, context: CatalogContext) =>
      archiveProduct(context.store, context.viewer, args, causeOf(context)),
    createCategory: (_root: unknown, args: { input: CreateCategoryInput }, context: CatalogContext) =>
      createCategory(context.store, context.viewer, args.input),
    updateCategory: (_root: unknown, args: { input: UpdateCategoryInput }, context: CatalogContext) =>
      updateCategory(context.store, context.viewer, args.input),
  },

  Product: {
    // Archived products resolve too: an order line must keep showing what was bought.
    __resolveReference: (reference: { id: string }, context: CatalogContext) => context.loaders.productById.load(reference.id),
    category: (product: Product, _args: unknown, context: CatalogContext) =>
      product.categoryId ? context.loaders.categoryById.load(product.categoryId) : null,
    createdAt: (product: Product) => iso(product.createdAt),
    updatedAt: (product: Product) => iso(product.updatedAt),
  },

  Stock: {
    available: (stock: StockLevel) => availableUnits(stock),
    inStock: (stock: StockLevel) => isInStock(stock),
    onHand: (stock: StockLevel, _args: unknown, context: CatalogContext) => {
      requireAdmin(context.viewer);
      return stock.onHand;
    },
    reserved: (stock: StockLevel, _args: unknown, context: CatalogContext) => {
      requireAdmin(context.viewer);
      return stock.reserved;
    },
  },

  Category: {
    __resolveReference: (reference: { id: string }, context: CatalogContext) => context.loaders.categoryById.load(reference.id),
    parent: (category: Category, _args: unknown, context: CatalogContext) =>
      category.parentId ? context.loaders.categoryById.load(category.parentId) : null,
    children: (category: Category, _args: unknown, context: CatalogContext) =>
      context.loaders.childrenOfCategory.load(category.id),
    products: async (category: Category, args: ListProductsInput, context: CatalogContext, info: CacheControlInfo) => {
      privateForAdmins(context, info);
      return primed(context, await listCategoryProducts(context.products, context.viewer, category.id, args));
    },
  },
};
