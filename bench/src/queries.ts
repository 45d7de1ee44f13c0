/** The operations the benchmarks send, as a storefront and a mobile client would. */
import { createHash } from 'node:crypto';

/** Scenario 1–3: one storefront listing page — price, category and stock of each product (public data only). */
export const STOREFRONT_PAGE = `query StorefrontPage($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      slug
      name
      price { amountCents currency }
      category { id slug name }
      stock { available inStock }
    }
  }
}`;

/** Scenario 4: the mobile app's minimal listing — ids and names only. */
export const MOBILE_MINIMAL = `query MobileProducts($first: Int!) {
  products(first: $first) {
    nodes { id name }
  }
}`;

export function graphqlBody(query: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ query, variables });
}

/** An automatic-persisted-query request: the hash only, as the mobile app sends once the query is registered. */
export function persistedQueryBody(query: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });
}

/** The first APQ request: query and hash together (registers the query at the gateway). */
export function registerPersistedQueryBody(query: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ query, variables, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
