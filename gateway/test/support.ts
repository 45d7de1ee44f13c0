/** Helpers for tests that talk to a real gateway over HTTP. */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';
import {
  createJwtAuthenticator,
  createLogger,
  loadSubgraphSchema,
  parseSubgraphKeyring,
  startSubgraphServer,
  type SubgraphContextBase,
} from '@commerce/platform';
import { createEvent, topicFor, type EventSubscriber } from '@commerce/events';
import { TEST_JWT_SETTINGS, testSigningKey, testSubgraphKeys, type TestStack } from '@commerce/testkit';
import { loadGatewayConfig, startGateway, type RunningGateway } from '../src/main.ts';
import { subgraphSchemaFile } from '../src/compose-supergraph.ts';

export interface GraphQLBody<Data = Record<string, unknown>> {
  data?: Data | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface GraphQLResult<Data> {
  status: number;
  headers: Headers;
  body: GraphQLBody<Data>;
}

export async function post<Data = Record<string, unknown>>(
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<GraphQLResult<Data>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as GraphQLBody<Data> };
}

export const gql = <Data = Record<string, unknown>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
) => post<Data>(url, { query, variables }, headers);

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A second gateway in front of the same subgraphs, with its own settings (limits, Redis, ...). */
export async function startExtraGateway(
  stack: TestStack,
  env: Record<string, string> = {},
  dependencies: { bus?: EventSubscriber; supergraphSdl?: string } = {},
): Promise<RunningGateway & { graphqlUrl: string; baseUrl: string }> {
  // Each instance reads the bus as its own consumer group (one subscription per group per bus).
  const config = loadGatewayConfig({
    ...stack.env,
    GATEWAY_PORT: '0',
    GATEWAY_MANAGEMENT_PORT: '0',
    GATEWAY_EVENTS_GROUP_ID: `gateway-test-${randomUUID()}`,
    ...env,
  });
  const gateway = await startGateway(config, createLogger({ service: 'gateway', level: 'silent' }), dependencies);
  // A new consumer group reads the bus from the beginning: without this, earlier tests' catalog events
  // would purge this instance's cache (and empty its hit path) in the middle of the caller's test.
  if (dependencies.bus && dependencies.bus === stack.embedded.bus && !(await stack.embedded.bus.drain(30_000))) {
    throw new Error('the extra gateway did not catch up with the event bus within 30 s');
  }
  const baseUrl = `http://127.0.0.1:${gateway.port}`;
  return { ...gateway, baseUrl, graphqlUrl: `${baseUrl}/graphql` };
}

/** Reads one counter/gauge value from a Prometheus text exposition. */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([^{ ]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const lineLabels = match[2] ?? '';
    if (wanted.every((label) => lineLabels.includes(label))) total += Number(match[3]);
  }
  return total;
}

export async function metricsOf(gateway: RunningGateway): Promise<string> {
  return gateway.metrics.registry.metrics();
}

export async function waitFor<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * A small real subgraph whose answer depends on the verified caller and is cacheable PRIVATE for a
 * minute — the graph's own subgraphs mark no private field cacheable yet, and the gateway's per-user
 * keying must still be proven. It counts how often it computed an answer.
 */
export async function startViewerNotesSubgraph() {
  let computations = 0;
  const server = await startSubgraphServer({
    name: 'viewer-notes',
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ service: 'viewer-notes', level: 'silent' }),
    authenticate: createJwtAuthenticator(TEST_JWT_SETTINGS, () => [testSigningKey()]),
    schema: loadSubgraphSchema(VIEWER_NOTES_SCHEMA, {
      Query: {
        viewerNote: (_root: unknown, _args: unknown, context: SubgraphContextBase) =>
          context.viewer ? { owner: context.viewer.userId, computation: ++computations } : null,
      },
    }),
    context: (base) => base,
    accessKeys: parseSubgraphKeyring(testSubgraphKeys()),
  });
  return { ...server, computations: () => computations };
}

const VIEWER_NOTES_SCHEMA = new URL('./fixtures/viewer-notes.graphql', import.meta.url);

/** The graph's supergraph plus extra subgraphs, composed the way `npm run compose` does. */
export function composeWith(stack: TestStack, extra: { name: string; url: string; schema: URL }[]): string {
  const services = [
    ...Object.entries(stack.services).map(([name, service]) => ({
      name,
      url: service.url,
      typeDefs: parse(readFileSync(subgraphSchemaFile(name), 'utf8')),
    })),
    ...extra.map(({ name, url, schema }) => ({ name, url, typeDefs: parse(readFileSync(schema, 'utf8')) })),
  ];
  const result = composeServices(services);
  if (result.errors) throw new Error(result.errors.map((error) => error.message).join('\n'));
  return result.supergraphSdl;
}

export { VIEWER_NOTES_SCHEMA };

export interface CreatedProduct {
  id: string;
  version: number;
  price: { amountCents: number };
}

const PRODUCT_PRICE = `query ProductPrice($id: ID!) { product(id: $id) { id name price { amountCents currency } } }`;

/**
 * Catalog moves the cache tests need: create as admin, read a price, change a price behind the
 * gateway's back. A created product is returned once every listening gateway processed its
 * ProductCreated event, so that purge cannot land in the middle of a test.
 */
export function catalogMoves(
  stack: TestStack,
  adminAuthorization: string,
  listeners: () => RunningGateway[] = () => [stack.gateway],
) {
  return {
    async createProduct(priceCents: number): Promise<CreatedProduct> {
      const suffix = Math.random().toString(36).slice(2, 10);
      return afterPurge(
        listeners(),
        'ProductCreated',
        (created) => created.id,
        async () => {
          const { body } = await gql<{ createProduct: CreatedProduct }>(
            stack.gatewayUrl,
            `mutation Create($input: CreateProductInput!) { createProduct(input: $input) { id version price { amountCents } } }`,
            { input: { sku: `SKU-${suffix}`, name: `Gateway test ${suffix}`, priceCents, initialStock: 5 } },
            { authorization: adminAuthorization },
          );
          if (!body.data) throw new Error(`createProduct failed: ${JSON.stringify(body.errors)}`);
          return body.data.createProduct;
        },
      );
    },
    async priceOf(id: string, url = stack.gatewayUrl, headers: Record<string, string> = {}): Promise<number> {
      const { body } = await gql<{ product: { price: { amountCents: number } } | null }>(url, PRODUCT_PRICE, { id }, headers);
      if (!body.data?.product) throw new Error(`product query failed: ${JSON.stringify(body.errors)}`);
      return body.data.product.price.amountCents;
    },
    /** No event is emitted, so only a cache miss could reveal the new price. */
    async setPriceWithoutEvent(id: string, priceCents: number): Promise<void> {
      const catalog = stack.services.catalog as unknown as {
        prisma: { $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number> };
      };
      const changed = await catalog.prisma.$executeRawUnsafe(
        'UPDATE products SET price_cents = $1 WHERE id = $2::uuid',
        priceCents,
        id,
      );
      if (changed !== 1) throw new Error(`expected to change one product, changed ${changed}`);
    },
    /** Resolves once every listening gateway processed the resulting ProductUpdated (its purge). */
    async updatePrice(product: CreatedProduct, priceCents: number): Promise<void> {
      await afterPurge(
        listeners(),
        'ProductUpdated',
        () => product.id,
        async () => {
          const { body } = await gql(
            stack.gatewayUrl,
            'mutation Update($input: UpdateProductInput!) { updateProduct(input: $input) { price { amountCents } } }',
            { input: { id: product.id, version: product.version, priceCents } },
            { authorization: adminAuthorization },
          );
          if (body.errors) throw new Error(`updateProduct failed: ${JSON.stringify(body.errors)}`);
        },
      );
    },
  };
}

/**
 * Runs `action`, then waits until every gateway purged its cache for `eventType` about the entity the
 * action returned. Listens from before the action, so a quick event is not missed, and matches the
 * aggregate id, so replayed older events (a new Kafka group reads from the start) do not count.
 */
export async function afterPurge<T>(
  gateways: RunningGateway[],
  eventType: string,
  aggregateIdOf: (result: T) => string,
  action: () => Promise<T>,
  timeoutMs = 30_000,
): Promise<T> {
  const seen = gateways.map(() => new Set<string>());
  const unsubscribes = gateways.map((gateway, index) =>
    gateway.onCachePurge((purge) => {
      if (purge.eventType === eventType) seen[index]!.add(purge.aggregateId);
    }),
  );
  try {
    const result = await action();
    const id = aggregateIdOf(result);
    await waitFor(async () => seen.every((ids) => ids.has(id)), timeoutMs);
    return result;
  } finally {
    unsubscribes.forEach((unsubscribe) => unsubscribe());
  }
}

export const purgeCount = async (gateway: RunningGateway, event: string) =>
  metricValue(await metricsOf(gateway), 'gateway_response_cache_purge_events_total', { event });

/** Publishes a catalog event straight to the bus, as if the catalog had changed something. */
export async function publishCatalogEvent(
  stack: TestStack,
  type: 'ProductUpdated' | 'StockChanged',
  productId: string,
  amountCents = 0,
) {
  const event =
    type === 'ProductUpdated'
      ? createEvent('ProductUpdated', {
          productId,
          sku: 'SKU-EVENT',
          slug: 'event',
          name: 'event',
          price: { amountCents, currency: 'USD' },
          changedFields: ['price'],
        })
      : createEvent('StockChanged', { productId, available: 4, reason: 'test' });
  await stack.embedded.bus!.publish([{ topic: topicFor(type), key: event.aggregateId, envelope: event }]);
}
