import {
  currentRequestContext,
  DomainError,
  errorSummary,
  injectTraceHeaders,
  SpanKind,
  withSpan,
  type Logger,
} from '@commerce/platform';
import type { ProductCatalog, ShoppableProduct } from '../../ports/product-catalog.ts';

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

interface CatalogResponse {
  data?: Record<string, CatalogProduct | null> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * Asks the catalog subgraph directly over HTTP. `product(id)` answers anonymous callers with active
 * products only (archived ones are hidden from shoppers, unknown ones are null), which is exactly the
 * question "may a shopper buy this?"; price and available units come with it. One request with an alias per
 * product (the catalog batches the aliases into one lookup), so a whole cart is one call.
 */
export class GraphQLProductCatalog implements ProductCatalog {
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: GraphQLProductCatalogOptions) {
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.fetch = options.fetch ?? fetch;
  }

  async shoppableProducts(productIds: readonly string[]): Promise<Map<string, ShoppableProduct>> {
    const ids = [...new Set(productIds)];
    const shoppable = new Map<string, ShoppableProduct>();
    if (ids.length === 0) return shoppable;
    const variables = Object.fromEntries(ids.map((id, index) => [`p${index}`, id]));
    const query = `query OrdersShoppableProducts(${ids.map((_, index) => `$p${index}: ID!`).join(', ')}) {
      ${ids.map((_, index) => `p${index}: product(id: $p${index}) { id price { amountCents currency } stock { available } }`).join('\n      ')}
    }`;
    const body = await this.post(query, variables);
    ids.forEach((id, index) => {
      const product = body.data?.[`p${index}`];
      if (product) shoppable.set(id, { id, price: product.price, available: product.stock.available });
    });
    return shoppable;
  }

  private async post(query: string, variables: Record<string, string>): Promise<CatalogResponse> {
    const request = currentRequestContext();
    try {
      // A CLIENT span; the catalog's server span continues it (traceparent from the active span).
      const response = await withSpan(
        'orders',
        'POST catalog',
        { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'POST', 'server.address': 'catalog' } },
        async (span) => {
          const answer = await this.fetch(this.options.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              // Correlation only; no credentials: the question is asked as an anonymous shopper.
              ...(request
                ? { 'x-request-id': request.requestId, traceparent: `00-${request.traceId}-${'0'.repeat(15)}1-01` }
                : {}),
              ...injectTraceHeaders({}),
              ...this.options.accessHeaders?.(),
            },
            body: JSON.stringify({ query, variables }),
            signal: AbortSignal.timeout(this.timeoutMs),
          });
          span.setAttribute('http.response.status_code', answer.status);
          return answer;
        },
      );
      const body = (await response.json()) as CatalogResponse;
      if (!response.ok || body.errors?.length || !body.data) {
        throw new Error(
          `catalog answered ${response.status}: ${body.errors?.map((error) => error.message).join('; ') ?? 'no data'}`,
        );
      }
      return body;
    } catch (error) {
      this.options.logger.warn({ err: errorSummary(error), catalogUrl: this.options.url }, 'catalog product check failed');
      throw new DomainError('SERVICE_UNAVAILABLE', 'The catalog cannot confirm products right now; please try again');
    }
  }
}
