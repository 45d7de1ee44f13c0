import type { Money } from '../domain/money.ts';

/** A product a shopper can buy right now, as the catalog sees it at this moment. */
export interface ShoppableProduct {
  id: string;
  /** The catalog's current price (orders are still priced by the catalog when it reserves the stock). */
  price: Money;
  /** Units that can be ordered now (on hand minus reserved). */
  available: number;
}

/**
 * The catalog as orders sees it: can a shopper buy these products right now, at what price, and how many
 * are left? Unknown and archived products are not shoppable. Orders keeps only product ids and quantities;
 * names, prices and stock stay in the catalog.
 */
export interface ProductCatalog {
  /** The products among `productIds` that exist and are not archived, keyed by id (one question for all). */
  shoppableProducts(productIds: readonly string[]): Promise<Map<string, ShoppableProduct>>;
}
