import { currentRequestContext, injectTraceHeaders, SpanKind, withSpan } from '@commerce/platform';

export interface SubgraphClientOptions {
  /** The subgraph's GraphQL endpoint (CATALOG_URL, USERS_URL). */
  url: string;
  /** Which subgraph answers (span attributes). */
  subgraph: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Headers that prove the call comes from inside the graph (a subgraph access token for that subgraph). */
  accessHeaders?: () => Record<string, string>;
}

export interface SubgraphAnswer<Data> {
  data?: Data | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * One GraphQL call from orders to another subgraph, as a CLIENT span the callee continues. Throws on a
 * transport failure, a non-2xx answer, GraphQL errors or no data; the adapters turn that into
 * SERVICE_UNAVAILABLE (and log it) in their own words.
 */
export async function callSubgraph<Data>(
  options: SubgraphClientOptions,
  query: string,
  variables: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Data> {
  const request = currentRequestContext();
  const response = await withSpan(
    'orders',
    `POST ${options.subgraph}`,
    { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'POST', 'server.address': options.subgraph } },
    async (span) => {
      const answer = await (options.fetch ?? fetch)(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(request ? { 'x-request-id': request.requestId, traceparent: `00-${request.traceId}-${'0'.repeat(15)}1-01` } : {}),
          ...injectTraceHeaders({}),
          ...options.accessHeaders?.(),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 3000),
      });
      span.setAttribute('http.response.status_code', answer.status);
      return answer;
    },
  );
  const body = (await response.json()) as SubgraphAnswer<Data>;
  if (!response.ok || body.errors?.length || !body.data) {
    throw new Error(
      `${options.subgraph} answered ${response.status}: ${body.errors?.map((error) => error.message).join('; ') ?? 'no data'}`,
    );
  }
  return body.data;
}
