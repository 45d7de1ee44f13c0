import { DomainError, errorSummary, isUuid, type Logger } from '@commerce/platform';
import type { ProductCatalog, ShoppableProduct } from '../../ports/product-catalog.ts';
import { callSubgraph } from '../subgraph-client.ts';

export interface GraphQLProductCatalogOptions {
  /** The catalog subgraph's GraphQL endpoint (CATALOG_URL). */
  url: string;
  logger: Logger;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Headers that prove the call comes from inside the graph (the subgraph access token for the catalog). */
  accessHeaders?: () => Record<string, string>;
}

interface CatalogProduct {
  id: string;
  price: { amountCents: number; currency: string };
  stock: { available: number };
}

/**
 * Asks the catalog subgraph directly over HTTP. `product(id)` answers anonymous callers with active
 * products only (archived ones are hidden from shoppers, unknown ones are null), which is exactly the
 * question "may a shopper buy this?"; price and available units come with it. One request with an alias
 * per product (the catalog batches the aliases into one lookup), so a whole cart is one call. No
 * credentials are sent: the question is asked as an anonymous shopper.
 */
export class GraphQLProductCatalog implements ProductCatalog {
  constructor(private readonly options: GraphQLProductCatalogOptions) {}

  async shoppableProducts(productIds: readonly string[]): Promise<Map<string, ShoppableProduct>> {
    // Product ids are UUIDs: anything else names no product (absent from the answer, so NOT_FOUND for the
    // caller). The catalog would refuse it with BAD_USER_INPUT, which must not read as the catalog being down.
    const ids = [...new Set(productIds)].filter((id) => isUuid(id));
    const shoppable = new Map<string, ShoppableProduct>();
    if (ids.length === 0) return shoppable;
    const variables = Object.fromEntries(ids.map((id, index) => [`p${index}`, id]));
    const query = `query OrdersShoppableProducts(${ids.map((_, index) => `$p${index}: ID!`).join(', ')}) {
      ${ids.map((_, index) => `p${index}: product(id: $p${index}) { id price { amountCents currency } stock { available } }`).join('\n      ')}
    }`;
    let data: Record<string, CatalogProduct | null>;
    try {
      data = await callSubgraph<Record<string, CatalogProduct | null>>(
        { ...this.options, subgraph: 'catalog' },
        query,
        variables,
      );
    } catch (error) {
      this.options.logger.warn({ err: errorSummary(error), catalogUrl: this.options.url }, 'catalog product check failed');
      throw new DomainError('SERVICE_UNAVAILABLE', 'The catalog cannot confirm products right now; please try again');
    }
    ids.forEach((id, index) => {
      const product = data[`p${index}`];
      if (product) shoppable.set(id, { id, price: product.price, available: product.stock.available });
    });
    return shoppable;
  }
}
