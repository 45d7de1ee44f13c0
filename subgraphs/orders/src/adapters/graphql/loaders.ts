import DataLoader from 'dataloader';
import type { Order } from '../../domain/order.ts';
import type { OrderRepository } from '../../ports/order-repository.ts';
import type { ProductCatalog, ShoppableProduct } from '../../ports/product-catalog.ts';
import { isUuid } from '../../application/validation.ts';

/** DataLoaders live for one request: batching without sharing data across viewers. */
export function createOrdersLoaders(orders: OrderRepository, catalog: ProductCatalog) {
  return {
    orderById: new DataLoader<string, Order | null>(async (ids) => {
      const found = new Map((await orders.findByIds(ids.filter(isUuid))).map((order) => [order.id, order]));
      return ids.map((id) => found.get(id) ?? null);
    }),
    /** The catalog's current price and stock: every line of a cart in one catalog call, however many lines. */
    shoppableProduct: new DataLoader<string, ShoppableProduct | null>(async (ids) => {
      const found = await catalog.shoppableProducts(ids);
      return ids.map((id) => found.get(id) ?? null);
    }),
  };
}

export type OrdersLoaders = ReturnType<typeof createOrdersLoaders>;
