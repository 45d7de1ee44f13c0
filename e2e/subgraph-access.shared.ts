/**
 * Subgraphs answer the gateway only (docs/gateway.md, "Subgraph access tokens"): a caller that reaches a
 * subgraph directly — without the token the gateway presents, or with a forged, expired, too long-lived
 * or other subgraph's token — gets 401 and nothing runs, while everything through the gateway works.
 * Shared by the embedded stack (subgraph-access.test.ts) and full mode on real servers (.int.test.ts).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createSubgraphTokenSigner, parseSubgraphKeyring, SUBGRAPH_TOKEN_HEADER } from '@commerce/platform';
import { bearer } from '@commerce/testkit';

export type SubgraphName = 'catalog' | 'users' | 'orders' | 'billing';
export const SUBGRAPH_NAMES: SubgraphName[] = ['catalog', 'users', 'orders', 'billing'];

export interface GraphUnderTest {
  gatewayUrl: string;
  /** The gateway's /ready, on its management port. */
  gatewayReadyUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
  /** SUBGRAPH_AUTH_KEYS the subgraphs were started with (a test that holds it can mint a valid token). */
  subgraphAuthKeys: string;
}

interface Answer {
  status: number;
  text: string;
  body: { data?: Record<string, any> | null; errors?: { message: string; extensions?: { code?: string } }[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Answer['body'] } satisfies Answer;
}

const USER_ENTITIES = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id name } } }`;
const PRODUCT_ENTITIES = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { id name } } }`;
const REGISTER = `mutation ($email: String!, $name: String!) {
  register(email: $email, password: "a perfectly fine passphrase", name: $name) { accessToken user { id } }
}`;

function expectRefused(answer: Answer, secret?: string) {
  expect(answer.status).toBe(401);
  expect(answer.body.errors?.[0]?.extensions?.code).toBe('SUBGRAPH_TOKEN_REQUIRED');
  expect(answer.body.data).toBeUndefined();
  if (secret) expect(answer.text).not.toContain(secret);
}

export function subgraphAccessSuite(graph: () => GraphUnderTest) {
  const admin = bearer(randomUUID(), 'ADMIN');
  let user: { id: string; name: string; accessToken: string };
  let archived: { id: string; name: string };
  let onSale: { id: string };

  beforeAll(async () => {
    const { gatewayUrl } = graph();
    const name = `Private Person ${randomUUID().slice(0, 8)}`;
    const registered = await post(gatewayUrl, REGISTER, { email: `gate-${randomUUID()}@example.com`, name });
    if (!registered.body.data) throw new Error(`register failed: ${registered.text}`);
    user = { id: registered.body.data.register.user.id, name, accessToken: registered.body.data.register.accessToken };
    const create = async (label: string) => {
      const suffix = randomUUID().slice(0, 8);
      const created = await post(
        gatewayUrl,
        `mutation ($input: CreateProductInput!) { createProduct(input: $input) { id name } }`,
        { input: { sku: `GATE-${label}-${suffix}`, name: `Gate ${label} ${suffix}`, priceCents: 1234, initialStock: 5 } },
        { authorization: admin },
      );
      if (!created.body.data) throw new Error(`createProduct failed: ${created.text}`);
      return created.body.data.createProduct as { id: string; name: string };
    };
    archived = await create('archived');
    onSale = await create('on-sale');
    const archive = await post(
      gatewayUrl,
      `mutation ($id: ID!) { archiveProduct(id: $id) { id } }`,
      { id: archived.id },
      {
        authorization: admin,
      },
    );
    if (archive.body.errors) throw new Error(`archiveProduct failed: ${archive.text}`);
  }, 60_000);

  it("refuses every subgraph's schema, introspection and GET queries without the gateway's token: 401, nothing runs", async () => {
    for (const name of SUBGRAPH_NAMES) {
      const url = graph().subgraphUrls[name];
      expectRefused(await post(url, '{ _service { sdl } }'));
      expectRefused(await post(url, '{ __schema { types { name } } }'));
      const viaGet = await fetch(`${url}?query=${encodeURIComponent('{ _service { sdl } }')}`, {
        headers: { 'apollo-require-preflight': 'true' },
      });
      expect(viaGet.status).toBe(401);
      expect(await viaGet.text()).not.toMatch(/extend schema|type Query/);
    }
  });

  it("does not tell a stranger a user's name, or whether an id exists, nor show an archived product", async () => {
    const users = graph().subgraphUrls.users;
    expectRefused(await post(users, USER_ENTITIES, { representations: [{ __typename: 'User', id: user.id }] }), user.name);
    expectRefused(
      await post(graph().subgraphUrls.catalog, PRODUCT_ENTITIES, {
        representations: [{ __typename: 'Product', id: archived.id }],
      }),
      archived.name,
    );
    // Even the client's own valid access token is no way past: it proves who the user is, not that the gateway sent the call.
    expectRefused(
      await post(
        users,
        USER_ENTITIES,
        { representations: [{ __typename: 'User', id: user.id }] },
        { authorization: `Bearer ${user.accessToken}` },
      ),
      user.name,
    );
  });

  it('runs no mutation sent straight to a subgraph', async () => {
    const email = `direct-${randomUUID()}@example.com`;
    expectRefused(await post(graph().subgraphUrls.users, REGISTER, { email, name: 'Direct Caller' }));
    // Had the direct call registered the account, this would be a CONFLICT.
    const throughGateway = await post(graph().gatewayUrl, REGISTER, { email, name: 'Gateway Caller' });
    expect(throughGateway.body.errors).toBeUndefined();
    expect(throughGateway.body.data?.register.user.id).toEqual(expect.any(String));
  });

  it('refuses a forged, expired, too long-lived, unsigned or other-subgraph token', async () => {
    const keyring = parseSubgraphKeyring(graph().subgraphAuthKeys);
    const { kid, secret } = keyring.signing;
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>, key: Buffer = secret) =>
      jwt.sign({ iss: 'gateway', aud: 'users', iat: now, exp: now + 60, ...claims }, key, { algorithm: 'HS256', keyid: kid });
    const tokens = {
      forged: sign({}, randomBytes(32)),
      expired: sign({ iat: now - 200, exp: now - 100 }),
      longLived: sign({ exp: now + 24 * 3600 }),
      unsigned: jwt.sign({ iss: 'gateway', aud: 'users', iat: now, exp: now + 60 }, '', { algorithm: 'none', keyid: kid }),
      forCatalog: createSubgraphTokenSigner(keyring, 'gateway').tokenFor('catalog'),
      unknownKid: jwt.sign({ iss: 'gateway', aud: 'users', iat: now, exp: now + 60 }, secret, {
        algorithm: 'HS256',
        keyid: 'other',
      }),
    };
    const representations = [{ __typename: 'User', id: user.id }];
    for (const [label, token] of Object.entries(tokens)) {
      const answer = await post(
        graph().subgraphUrls.users,
        USER_ENTITIES,
        { representations },
        { [SUBGRAPH_TOKEN_HEADER]: token },
      );
      expect({ label, status: answer.status }).toEqual({ label, status: 401 });
      expectRefused(answer, user.name);
    }
    // The same call with a valid token for users is answered: the token, not the query, was refused.
    const valid = await post(
      graph().subgraphUrls.users,
      USER_ENTITIES,
      { representations },
      { [SUBGRAPH_TOKEN_HEADER]: createSubgraphTokenSigner(keyring, 'gateway').tokenFor('users') },
    );
    expect(valid.status).toBe(200);
    expect(valid.body.data?._entities).toEqual([{ id: user.id, name: user.name }]);
  });

  it('answers everything through the gateway: reads, mutations, the orders → catalog call, readiness', async () => {
    const { gatewayUrl, gatewayReadyUrl } = graph();
    const me = await post(gatewayUrl, '{ me { id name } }', {}, { authorization: `Bearer ${user.accessToken}` });
    expect(me.body).toEqual({ data: { me: { id: user.id, name: user.name } } });
    const product = await post(gatewayUrl, `query ($id: ID!) { product(id: $id) { id } }`, { id: onSale.id });
    expect(product.body).toEqual({ data: { product: { id: onSale.id } } });
    // addToCart: the gateway calls orders, and orders asks the catalog directly (with its own token).
    const cart = await post(
      gatewayUrl,
      `mutation ($id: ID!) { addToCart(productId: $id, quantity: 1) { itemCount lines { product { id name } } } }`,
      { id: onSale.id },
      { authorization: `Bearer ${user.accessToken}` },
    );
    expect(cart.body.errors).toBeUndefined();
    expect(cart.body.data?.addToCart.itemCount).toBe(1);
    expect(cart.body.data?.addToCart.lines[0].product.id).toBe(onSale.id);
    // The gateway's readiness probe of every subgraph presents the token too.
    const ready = await fetch(gatewayReadyUrl);
    expect(ready.status).toBe(200);
  });
}
