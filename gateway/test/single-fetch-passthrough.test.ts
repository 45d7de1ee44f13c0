/**
 * The single-fetch pass-through answers exactly what Apollo's executor answers: every operation below
 * is sent, three times, to a gateway with the pass-through and to one without it, and the bodies and
 * statuses must be identical — while the pass-through really served the eligible ones (its counters)
 * and left the others (several subgraphs, abstract selections, errors) to the normal executor.
 */
import { randomUUID } from 'node:crypto';
import { bearer, startTestStack, type TestStack } from '@commerce/testkit';
import { catalogMoves, metricValue, post, startExtraGateway } from './support.ts';

type Gateway = Awaited<ReturnType<typeof startExtraGateway>>;

let stack: TestStack;
let withPassthrough: Gateway;
let without: Gateway;
let productId: string;

beforeAll(async () => {
  stack = await startTestStack();
  // The response cache would answer repeats before any executor runs: off, so every request executes.
  withPassthrough = await startExtraGateway(stack, { GATEWAY_RESPONSE_CACHE: 'false' });
  without = await startExtraGateway(stack, { GATEWAY_RESPONSE_CACHE: 'false', GATEWAY_SINGLE_FETCH_PASSTHROUGH: 'false' });
  // A few products to list (the test stack starts with an empty catalog).
  const catalog = catalogMoves(stack, bearer(randomUUID(), 'ADMIN'));
  for (const price of [1200, 3400, 5600]) productId = (await catalog.createProduct(price)).id;
}, 180_000);

afterAll(async () => {
  await withPassthrough?.stop();
  await without?.stop();
  await stack?.stop();
}, 60_000);

const STOREFRONT = `query StorefrontPage($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id slug name price { amountCents currency } category { id slug name } stock { available inStock } }
  }
}`;

interface Case {
  name: string;
  body: () => Record<string, unknown>;
  headers?: () => Record<string, string>;
  /** Whether the pass-through should have answered it (after the first request of the document). */
  passesThrough: boolean;
}

const CASES: Case[] = [
  { name: 'storefront page', body: () => ({ query: STOREFRONT, variables: { first: 5 } }), passesThrough: true },
  { name: 'mobile minimal', body: () => ({ query: '{ products(first: 3) { nodes { id name } } }' }), passesThrough: true },
  {
    name: 'aliases and a named fragment',
    body: () => ({
      query: `query One($id: ID!) { p: product(id: $id) { ...Basics title: name } }
        fragment Basics on Product { id price { cents: amountCents currency } }`,
      variables: { id: productId },
      operationName: 'One',
    }),
    passesThrough: true,
  },
  {
    // The planner sends __typename first; the pass-through puts the keys back in the client's order.
    name: '__typename last',
    body: () => ({ query: `{ product(id: "${productId}") { id __typename } }` }),
    passesThrough: true,
  },
  {
    name: '__typename in every selection, as Apollo Client sends it',
    body: () => ({
      query: `query ClientStyle($first: Int!) {
        products(first: $first) {
          nodes { id name price { amountCents currency __typename } category { slug __typename } __typename }
          pageInfo { hasNextPage __typename }
          __typename
        }
      }`,
      variables: { first: 3 },
    }),
    passesThrough: true,
  },
  {
    name: 'an aliased __typename (sent where the client put it)',
    body: () => ({ query: `{ product(id: "${productId}") { id kind: __typename } }` }),
    passesThrough: true,
  },
  {
    name: '@include false',
    body: () => ({
      query:
        'query Inc($withStock: Boolean!) { products(first: 2) { nodes { id stock @include(if: $withStock) { available } } } }',
      variables: { withStock: false },
    }),
    passesThrough: true,
  },
  {
    name: 'a missing product (null, no error)',
    body: () => ({ query: 'query Missing($id: ID!) { product(id: $id) { id name } }', variables: { id: randomUUID() } }),
    passesThrough: true,
  },
  {
    name: 'a subgraph error (both id and slug)',
    body: () => ({ query: `{ product(id: "${productId}", slug: "x") { id } }` }),
    passesThrough: false,
  },
  {
    name: 'a variable of the wrong type',
    body: () => ({ query: 'query Bad($first: Int!) { products(first: $first) { totalCount } }', variables: { first: 'many' } }),
    passesThrough: false,
  },
  {
    name: 'two subgraphs (the viewer, and public categories)',
    body: () => ({ query: '{ me { id } categories { id name } }' }),
    headers: () => ({ authorization: bearer(randomUUID(), 'CUSTOMER') }),
    passesThrough: false,
  },
];

/** Byte for byte, but for the request id each error carries. */
const comparable = (answer: unknown) => JSON.stringify(answer).replace(/"requestId":"[^"]*"/g, '"requestId":"…"');

/** Requests the catalog subgraph has answered so far (its own metrics). */
const catalogCalls = async () =>
  metricValue(await stack.services.catalog!.metrics.registry.metrics(), 'http_request_duration_seconds_count', {
    method: 'POST',
    route: '/graphql',
    status: '200',
  });

describe('single-fetch pass-through', () => {
  for (const testCase of CASES) {
    it(`answers like the normal executor: ${testCase.name}`, async () => {
      const before = withPassthrough.passthrough!.stats().passedThrough;
      for (let round = 0; round < 3; round++) {
        const headers = testCase.headers?.() ?? {};
        const body = testCase.body();
        const start = await catalogCalls();
        const ours = await post(withPassthrough.graphqlUrl, body, headers);
        const middle = await catalogCalls();
        const theirs = await post(without.graphqlUrl, body, headers);
        // Never a second call: an answer handed back to the normal executor is the one already received.
        expect(middle - start).toBe((await catalogCalls()) - middle);
        expect(ours.status).toBe(theirs.status);
        expect(comparable(ours.body)).toBe(comparable(theirs.body));
      }
      const served = withPassthrough.passthrough!.stats().passedThrough - before;
      // The first request of a document always runs the normal executor; the repeats may pass through.
      if (testCase.passesThrough) expect(served).toBe(2);
      else expect(served).toBe(0);
    });
  }

  describe('mutations', () => {
    /** Requests a subgraph has answered so far (its own metrics), whatever the status. */
    const callsOf = async (service: 'orders' | 'billing') => {
      const exposition = await stack.services[service]!.metrics.registry.metrics();
      return metricValue(exposition, 'http_request_duration_seconds_count', { method: 'POST', route: '/graphql', status: '200' });
    };
    const MUTATIONS: { name: string; query: string; variables?: () => Record<string, unknown>; passesThrough: boolean }[] = [
      {
        name: 'addToCart',
        query: 'mutation Add($id: ID!) { addToCart(productId: $id, quantity: 1) { itemCount lines { quantity } } }',
        variables: () => ({ id: productId }),
        passesThrough: true,
      },
      {
        name: 'two root fields of one subgraph, run in order',
        query: `mutation Both($id: ID!) {
          first: addToCart(productId: $id, quantity: 2) { itemCount }
          second: updateCartLine(productId: $id, quantity: 1) { itemCount }
        }`,
        variables: () => ({ id: productId }),
        passesThrough: true,
      },
      {
        name: 'a refused mutation (NOT_FOUND), answered once',
        query: 'mutation Missing($id: ID!) { addToCart(productId: $id, quantity: 1) { itemCount } }',
        variables: () => ({ id: randomUUID() }),
        passesThrough: false,
      },
      {
        name: 'root fields of two subgraphs (orders, then billing)',
        query: `mutation Two($id: ID!) {
          addToCart(productId: $id, quantity: 1) { itemCount }
          addPaymentMethod(token: "tok_visa") { brand last4 }
        }`,
        variables: () => ({ id: productId }),
        passesThrough: false,
      },
    ];
    for (const mutation of MUTATIONS) {
      it(`answers like the normal executor, with one call each: ${mutation.name}`, async () => {
        // Two customers in the same state, one per gateway: the same mutations must give the same answers.
        const ours = bearer(randomUUID(), 'CUSTOMER');
        const theirs = bearer(randomUUID(), 'CUSTOMER');
        const before = withPassthrough.passthrough!.stats().passedThrough;
        for (let round = 0; round < 3; round++) {
          const body = { query: mutation.query, variables: mutation.variables?.() ?? {} };
          const start = (await callsOf('orders')) + (await callsOf('billing'));
          const mine = await post(withPassthrough.graphqlUrl, body, { authorization: ours });
          const middle = (await callsOf('orders')) + (await callsOf('billing'));
          const other = await post(without.graphqlUrl, body, { authorization: theirs });
          const end = (await callsOf('orders')) + (await callsOf('billing'));
          expect(middle - start).toBe(end - middle); // never executed a second time
          expect(mine.status).toBe(other.status);
          expect(comparable(mine.body)).toBe(comparable(other.body));
        }
        const served = withPassthrough.passthrough!.stats().passedThrough - before;
        expect(served).toBe(mutation.passesThrough ? 2 : 0);
      });
    }
  });

  it('keeps the operations of one batched request apart (same query, different variables, handed back at once)', async () => {
    const failing = 'query Both($id: ID!, $slug: String) { product(id: $id, slug: $slug) { id name } }';
    const batch = [
      { query: failing, variables: { id: productId, slug: 'first' } },
      { query: failing, variables: { id: productId, slug: 'second' } },
      { query: 'query Listing($first: Int!) { products(first: $first) { nodes { id name } } }', variables: { first: 2 } },
      { query: 'query Listing($first: Int!) { products(first: $first) { nodes { id name } } }', variables: { first: 3 } },
    ];
    for (let round = 0; round < 3; round++) {
      const start = await catalogCalls();
      const ours = await post(withPassthrough.graphqlUrl, batch);
      const middle = await catalogCalls();
      const theirs = await post(without.graphqlUrl, batch);
      expect(middle - start).toBe((await catalogCalls()) - middle);
      expect(ours.status).toBe(theirs.status);
      expect(comparable(ours.body)).toBe(comparable(theirs.body));
    }
  });

  it('answers like the normal executor when the subgraph cannot be reached (SERVICE_UNAVAILABLE, one attempt each)', async () => {
    // A port nothing listens on: every call fails at once with "unreachable".
    const dead = { GATEWAY_RESPONSE_CACHE: 'false', CATALOG_URL: 'http://127.0.0.1:9/graphql' };
    const deadWith = await startExtraGateway(stack, dead);
    const deadWithout = await startExtraGateway(stack, { ...dead, GATEWAY_SINGLE_FETCH_PASSTHROUGH: 'false' });
    try {
      const body = { query: 'query Down { products(first: 2) { nodes { id } } categories { id } }' };
      for (let round = 0; round < 3; round++) {
        const ours = await post(deadWith.graphqlUrl, body);
        const theirs = await post(deadWithout.graphqlUrl, body);
        expect(ours.status).toBe(theirs.status);
        expect(comparable(ours.body)).toBe(comparable(theirs.body));
        expect(JSON.stringify(ours.body)).toContain('SERVICE_UNAVAILABLE');
      }
      expect(deadWith.passthrough!.stats().handedBack).toBe(2);
    } finally {
      await deadWith.stop();
      await deadWithout.stop();
    }
  });

  it('keeps the subgraph’s cache hints: an answer it passed through is cached like any other', async () => {
    const query = 'query Cacheable($first: Int!) { products(first: $first) { nodes { id name } } }';
    await post(stack.gatewayUrl, { query, variables: { first: 1 } }); // the document's first request: normal executor
    const before = stack.gateway.passthrough!.stats().passedThrough;
    const calls = await catalogCalls();
    const first = await post(stack.gatewayUrl, { query, variables: { first: 2 } }); // passed through, then stored
    expect(stack.gateway.passthrough!.stats().passedThrough).toBe(before + 1);
    const again = await post(stack.gatewayUrl, { query, variables: { first: 2 } }); // from the response cache
    expect(again.body).toEqual(first.body);
    expect((await catalogCalls()) - calls).toBe(1);
    expect(stack.gateway.passthrough!.stats().passedThrough).toBe(before + 1);
  });

  it('is off when configured off', () => {
    expect(without.passthrough).toBeUndefined();
  });
});
