/**
 * The authorization matrix: every Query and Mutation root field of the real supergraph, run as
 * anonymous, customer A, customer B and an admin against objects owned by A. Each operation has a
 * declared expectation per principal; an operation without one fails the suite, so nothing new
 * reaches the graph unreviewed. Field-level rules and the response cache are checked below it.
 */
import { randomUUID } from 'node:crypto';
import { extendSchema, parse, type GraphQLSchema } from 'graphql';
import { forgedTokens, startTestStack, type TestStack } from '@commerce/testkit';
import {
  ADDRESS_INPUT,
  DEMO_ADMIN_ID,
  Owner,
  PASSWORD,
  adminToken,
  loadSupergraph,
  must,
  registerCustomer,
  rootFieldNames,
  type Customer,
  type GraphResponse,
} from './support/graph.ts';

const PRINCIPALS = ['anonymous', 'customerA', 'customerB', 'admin'] as const;
type Principal = (typeof PRINCIPALS)[number];
/** ALLOW: data for the field, no error. NULL: no error, field null. Otherwise the error's extensions.code. */
type Outcome = 'ALLOW' | 'NULL' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT';
type Expectation = Record<Principal, Outcome>;

interface Fixtures {
  a: Customer;
  b: Customer;
  ownerA: Owner;
  ownerOf: (principal: Principal) => Owner | undefined;
  productId: string;
  productSlug: string;
  categorySlug: string;
  categoryId: string;
  addressA: string;
  paymentMethodA: string;
  orderA: string;
  paymentA: string;
}

interface OperationCase {
  expect: Expectation;
  /** Builds the request; called once per principal, so mutations act on fresh objects of A's. */
  /** Runs after each principal's attempt (to undo what would disturb the next one). */
  after?(fx: Fixtures, principal: Principal, response: GraphResponse): Promise<void>;
  request(
    fx: Fixtures,
    principal: Principal,
  ):
    | Promise<{ query: string; variables?: Record<string, unknown> }>
    | {
        query: string;
        variables?: Record<string, unknown>;
      };
}

const PUBLIC: Expectation = { anonymous: 'ALLOW', customerA: 'ALLOW', customerB: 'ALLOW', admin: 'ALLOW' };
const SIGNED_IN: Expectation = { anonymous: 'UNAUTHENTICATED', customerA: 'ALLOW', customerB: 'ALLOW', admin: 'ALLOW' };
/** Naming A's address: only A may ship to it (an admin places orders for themself, from their own book). */
const OWN_ADDRESS_ONLY: Expectation = {
  anonymous: 'UNAUTHENTICATED',
  customerA: 'ALLOW',
  customerB: 'BAD_USER_INPUT',
  admin: 'BAD_USER_INPUT',
};
const ADMIN_ONLY: Expectation = {
  anonymous: 'UNAUTHENTICATED',
  customerA: 'FORBIDDEN',
  customerB: 'FORBIDDEN',
  admin: 'ALLOW',
};
/** A's object: A and admins; B is told it does not exist (no enumeration of other users' ids). */
const OWNER_OR_ADMIN: Expectation = {
  anonymous: 'UNAUTHENTICATED',
  customerA: 'ALLOW',
  customerB: 'NOT_FOUND',
  admin: 'ALLOW',
};
/** A's own thing that even admins do not act on as A (payment methods, addresses: the user's only). */
const OWNER_ONLY: Expectation = {
  anonymous: 'UNAUTHENTICATED',
  customerA: 'ALLOW',
  customerB: 'NOT_FOUND',
  admin: 'NOT_FOUND',
};

const ORDER_SELECTION = '{ id status shippingAddress { recipientName city } }';
const NEXT_PASSWORD = 'an even finer passphrase';

const QUERIES: Record<string, OperationCase> = {
  payment: {
    expect: OWNER_OR_ADMIN,
    request: (fx) => ({ query: 'query ($id: ID!) { payment(id: $id) { id status } }', variables: { id: fx.paymentA } }),
  },
  ledgerReconciliation: { expect: ADMIN_ONLY, request: () => ({ query: '{ ledgerReconciliation { balanced } }' }) },
  product: {
    expect: PUBLIC,
    request: (fx) => ({ query: 'query ($id: ID!) { product(id: $id) { id name } }', variables: { id: fx.productId } }),
  },
  products: { expect: PUBLIC, request: () => ({ query: '{ products(first: 2) { totalCount nodes { id } } }' }) },
  categories: { expect: PUBLIC, request: () => ({ query: '{ categories { id } }' }) },
  category: {
    expect: PUBLIC,
    // By id, with the category page's product listing (the slug lookup is the same field).
    request: (fx) => ({
      query: 'query ($id: ID) { category(id: $id) { id products(first: 2) { totalCount nodes { id } } } }',
      variables: { id: fx.categoryId },
    }),
  },
  // The priced fields ask the catalog as the viewer's cart page does; they are the viewer's own cart's.
  cart: {
    expect: SIGNED_IN,
    request: () => ({
      query:
        '{ cart { itemCount subtotal { amountCents } lines { quantity available unitPrice { amountCents } lineTotal { amountCents } } } }',
    }),
  },
  order: {
    expect: OWNER_OR_ADMIN,
    request: (fx) => ({ query: `query ($id: ID!) { order(id: $id) ${ORDER_SELECTION} }`, variables: { id: fx.orderA } }),
  },
  orders: { expect: ADMIN_ONLY, request: () => ({ query: '{ orders(first: 5) { totalCount } }' }) },
  me: {
    expect: { anonymous: 'NULL', customerA: 'ALLOW', customerB: 'ALLOW', admin: 'ALLOW' },
    request: () => ({ query: '{ me { id } }' }),
  },
  users: { expect: ADMIN_ONLY, request: () => ({ query: '{ users(first: 5) { totalCount } }' }) },
};

async function freshProduct(stack: TestStack): Promise<{ id: string; version: number }> {
  const data = await must<{ createProduct: { id: string; version: number } }>(
    stack,
    'mutation ($input: CreateProductInput!) { createProduct(input: $input) { id version } }',
    { input: { sku: `REL-${randomUUID()}`, name: `Reliability ${randomUUID()}`, priceCents: 1_000, initialStock: 50 } },
    adminToken(),
  );
  return data.createProduct;
}

function mutationCases(stack: TestStack): Record<string, OperationCase> {
  // Objects of A's made fresh for each principal, so one principal's success cannot change the next one's answer.
  const freshOrderOfA = async (fx: Fixtures) => fx.ownerA.order(fx.productId, fx.paymentMethodA, fx.addressA);
  const confirmedOrderOfA = async (fx: Fixtures) => {
    const id = await freshOrderOfA(fx);
    const { status } = await fx.ownerA.settled(id);
    if (status !== 'CONFIRMED') throw new Error(`fixture order ${id} ended ${status}`);
    return id;
  };
  const cartWithProduct = async (fx: Fixtures, principal: Principal) => {
    await fx.ownerOf(principal)?.addToCart(fx.productId);
  };
  return {
    addPaymentMethod: {
      expect: SIGNED_IN,
      request: () => ({ query: 'mutation { addPaymentMethod(token: "tok_visa") { id } }' }),
    },
    removePaymentMethod: {
      expect: OWNER_ONLY,
      request: async (fx) => ({
        query: 'mutation ($id: ID!) { removePaymentMethod(id: $id) }',
        variables: { id: await fx.ownerA.paymentMethod() },
      }),
    },
    setDefaultPaymentMethod: {
      expect: OWNER_ONLY,
      request: async (fx) => ({
        query: 'mutation ($id: ID!) { setDefaultPaymentMethod(id: $id) { id } }',
        variables: { id: await fx.ownerA.paymentMethod() },
      }),
    },
    refundPayment: {
      expect: ADMIN_ONLY,
      request: (fx) => ({
        query:
          'mutation ($id: ID!, $key: String!) { refundPayment(paymentId: $id, amountCents: 1, reason: "matrix", idempotencyKey: $key) { id } }',
        variables: { id: fx.paymentA, key: randomUUID() },
      }),
    },
    createProduct: {
      expect: ADMIN_ONLY,
      request: () => ({
        query: 'mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }',
        variables: { input: { sku: `REL-${randomUUID()}`, name: `Matrix ${randomUUID()}`, priceCents: 500 } },
      }),
    },
    updateProduct: {
      expect: ADMIN_ONLY,
      request: async () => {
        const product = await freshProduct(stack);
        return {
          query: 'mutation ($input: UpdateProductInput!) { updateProduct(input: $input) { id } }',
          variables: { input: { id: product.id, version: product.version, name: `Renamed ${randomUUID()}` } },
        };
      },
    },
    adjustStock: {
      expect: ADMIN_ONLY,
      request: async () => ({
        query: 'mutation ($id: ID!) { adjustStock(productId: $id, delta: 1, reason: "matrix") { id } }',
        variables: { id: (await freshProduct(stack)).id },
      }),
    },
    archiveProduct: {
      expect: ADMIN_ONLY,
      request: async () => ({
        query: 'mutation ($id: ID!) { archiveProduct(id: $id) { id } }',
        variables: { id: (await freshProduct(stack)).id },
      }),
    },
    createCategory: {
      expect: ADMIN_ONLY,
      request: () => ({
        query: 'mutation ($input: CreateCategoryInput!) { createCategory(input: $input) { id } }',
        variables: { input: { name: `Matrix ${randomUUID()}` } },
      }),
    },
    updateCategory: {
      expect: ADMIN_ONLY,
      request: async () => {
        const created = await must<{ createCategory: { id: string } }>(
          stack,
          'mutation ($input: CreateCategoryInput!) { createCategory(input: $input) { id } }',
          { input: { name: `Matrix ${randomUUID()}` } },
          adminToken(),
        );
        return {
          query: 'mutation ($input: UpdateCategoryInput!) { updateCategory(input: $input) { id } }',
          variables: { input: { id: created.createCategory.id, description: 'changed' } },
        };
      },
    },
    addToCart: {
      expect: SIGNED_IN,
      request: (fx) => ({
        query: 'mutation ($id: ID!) { addToCart(productId: $id) { itemCount } }',
        variables: { id: fx.productId },
      }),
    },
    updateCartLine: {
      expect: SIGNED_IN,
      request: async (fx, principal) => {
        await cartWithProduct(fx, principal);
        return {
          query: 'mutation ($id: ID!) { updateCartLine(productId: $id, quantity: 2) { itemCount } }',
          variables: { id: fx.productId },
        };
      },
    },
    removeFromCart: {
      expect: SIGNED_IN,
      request: async (fx, principal) => {
        await cartWithProduct(fx, principal);
        return { query: 'mutation ($id: ID!) { removeFromCart(productId: $id) { itemCount } }', variables: { id: fx.productId } };
      },
    },
    clearCart: { expect: SIGNED_IN, request: () => ({ query: 'mutation { clearCart { itemCount } }' }) },
    // Both name A's card and A's address. The address must be one of the buyer's own (orders reads it from
    // users as the buyer), so anyone else's checkout is BAD_USER_INPUT and places nothing. The card is a
    // reference only: billing refuses to charge a card that is not the order owner's (checked below with the
    // buyer's own address: such orders end CANCELLED and A is never charged).
    checkout: {
      expect: OWN_ADDRESS_ONLY,
      request: async (fx, principal) => {
        await cartWithProduct(fx, principal);
        return {
          query: `mutation ($pm: ID!, $address: ID!, $key: String!) { checkout(paymentMethodId: $pm, shippingAddressId: $address, idempotencyKey: $key) ${ORDER_SELECTION} }`,
          variables: { pm: fx.paymentMethodA, address: fx.addressA, key: randomUUID() },
        };
      },
    },
    placeOrder: {
      expect: OWN_ADDRESS_ONLY,
      request: (fx) => ({
        query: `mutation ($lines: [OrderLineInput!]!, $pm: ID!, $address: ID!, $key: String!) { placeOrder(lines: $lines, paymentMethodId: $pm, shippingAddressId: $address, idempotencyKey: $key) ${ORDER_SELECTION} }`,
        variables: {
          lines: [{ productId: fx.productId, quantity: 1 }],
          pm: fx.paymentMethodA,
          address: fx.addressA,
          key: randomUUID(),
        },
      }),
    },
    cancelOrder: {
      expect: OWNER_OR_ADMIN,
      request: async (fx) => ({
        query: `mutation ($id: ID!) { cancelOrder(id: $id, reason: "matrix") ${ORDER_SELECTION} }`,
        variables: { id: await freshOrderOfA(fx) },
      }),
    },
    shipOrder: {
      expect: ADMIN_ONLY,
      request: async (fx, principal) => ({
        query: `mutation ($id: ID!) { shipOrder(id: $id) ${ORDER_SELECTION} }`,
        // Only the admin's attempt needs a shippable order; the others must be refused before state matters.
        variables: { id: principal === 'admin' ? await confirmedOrderOfA(fx) : fx.orderA },
      }),
    },
    deliverOrder: {
      expect: ADMIN_ONLY,
      request: async (fx, principal) => {
        let id = fx.orderA;
        if (principal === 'admin') {
          id = await confirmedOrderOfA(fx);
          await must(stack, 'mutation ($id: ID!) { shipOrder(id: $id) { id } }', { id }, adminToken());
        }
        return { query: `mutation ($id: ID!) { deliverOrder(id: $id) ${ORDER_SELECTION} }`, variables: { id } };
      },
    },
    register: {
      expect: PUBLIC,
      request: () => ({
        query:
          'mutation ($email: String!) { register(email: $email, password: "another fine passphrase", name: "New") { tokenType } }',
        variables: { email: `matrix-${randomUUID()}@example.com` },
      }),
    },
    // Credentials, not the caller's token, decide: anyone holding A's password or refresh token is A.
    login: {
      expect: PUBLIC,
      request: (fx) => ({
        query: 'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { tokenType } }',
        variables: { email: fx.a.email, password: PASSWORD },
      }),
    },
    refreshToken: {
      expect: PUBLIC,
      request: async (fx) => ({
        query: 'mutation ($token: String!) { refreshToken(refreshToken: $token) { tokenType } }',
        variables: { token: await freshRefreshToken(stack, fx.a) },
      }),
    },
    logout: {
      expect: PUBLIC,
      request: async (fx) => ({
        query: 'mutation ($token: String!) { logout(refreshToken: $token) }',
        variables: { token: await freshRefreshToken(stack, fx.a) },
      }),
    },
    updateProfile: {
      expect: SIGNED_IN,
      request: () => ({ query: 'mutation { updateProfile(input: { name: "Renamed" }) { id } }' }),
    },
    // Always the caller's own account; A's current password proves nothing about B's or the admin's account.
    changePassword: {
      expect: { anonymous: 'UNAUTHENTICATED', customerA: 'ALLOW', customerB: 'BAD_USER_INPUT', admin: 'BAD_USER_INPUT' },
      request: () => ({
        query:
          'mutation ($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) { tokenType } }',
        variables: { current: PASSWORD, next: NEXT_PASSWORD },
      }),
      // Puts A's passphrase back, so the rest of the file can keep logging A in.
      after: async (fx, principal, response) => {
        if (principal !== 'customerA' || classify(response, 'changePassword') !== 'ALLOW') return;
        await must(
          stack,
          'mutation ($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) { tokenType } }',
          { current: NEXT_PASSWORD, next: PASSWORD },
          fx.a.token,
        );
      },
    },
    addAddress: {
      expect: SIGNED_IN,
      request: () => ({
        query: 'mutation ($input: AddressInput!) { addAddress(input: $input) { id } }',
        variables: { input: ADDRESS_INPUT },
      }),
    },
    updateAddress: {
      expect: OWNER_ONLY,
      request: async (fx) => ({
        query: 'mutation ($id: ID!) { updateAddress(id: $id, input: { city: "Shelbyville" }) { id } }',
        variables: { id: await fx.ownerA.address() },
      }),
    },
    removeAddress: {
      expect: OWNER_ONLY,
      request: async (fx) => ({
        query: 'mutation ($id: ID!) { removeAddress(id: $id) }',
        variables: { id: await fx.ownerA.address() },
      }),
    },
    setDefaultAddress: {
      expect: OWNER_ONLY,
      request: async (fx) => ({
        query: 'mutation ($id: ID!) { setDefaultAddress(id: $id) { id } }',
        variables: { id: await fx.ownerA.address() },
      }),
    },
    setUserRole: {
      expect: ADMIN_ONLY,
      request: (fx) => ({
        query: 'mutation ($id: ID!) { setUserRole(userId: $id, role: CUSTOMER) { id } }',
        variables: { id: fx.a.userId },
      }),
    },
  };
}

async function freshRefreshToken(stack: TestStack, customer: Customer): Promise<string> {
  const data = await must<{ login: { refreshToken: string } }>(
    stack,
    'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { refreshToken } }',
    { email: customer.email, password: PASSWORD },
  );
  return data.login.refreshToken;
}

function classify(response: GraphResponse, field: string): string {
  const code = response.body.errors?.[0]?.extensions?.code;
  if (typeof code === 'string') return code;
  if (response.body.errors?.length) return `ERROR_WITHOUT_CODE(${response.status})`;
  if (response.status >= 400) return `HTTP_${response.status}`;
  return (response.body.data as Record<string, unknown> | null | undefined)?.[field] == null ? 'NULL' : 'ALLOW';
}

let stack: TestStack;
let fx: Fixtures;
let tokens: Record<Principal, string | undefined>;

beforeAll(async () => {
  stack = await startTestStack({
    seed: true,
    // The matrix registers, logs in and checks out far more than one person would in a minute.
    env: { GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '100000', GATEWAY_RATE_LIMIT_POINTS: '100000' },
  });
  const a = await registerCustomer(stack, 'matrix-a');
  // B's passphrase differs from A's, so A's password proves nothing about B's account.
  const b = await registerCustomer(stack, 'matrix-b', 'b different passphrase');
  tokens = { anonymous: undefined, customerA: a.token, customerB: b.token, admin: adminToken() };
  const ownerA = new Owner(stack, a);
  const owners: Partial<Record<Principal, Owner>> = {
    customerA: ownerA,
    customerB: new Owner(stack, b),
    admin: new Owner(stack, { userId: DEMO_ADMIN_ID, email: 'admin@demo.shop', token: adminToken(), refreshToken: '' }),
  };
  const catalog = await must<{ products: { nodes: { id: string; slug: string }[] }; categories: { id: string; slug: string }[] }>(
    stack,
    '{ products(first: 1, filter: { inStock: true }) { nodes { id slug } } categories { id slug } }',
    {},
  );
  const product = catalog.products.nodes[0];
  const category = catalog.categories[0];
  if (!product || !category) throw new Error('the seeded catalog has no product or category');
  const addressA = await ownerA.address();
  const paymentMethodA = await ownerA.paymentMethod();
  const orderA = await ownerA.order(product.id, paymentMethodA, addressA);
  const settled = await ownerA.settled(orderA);
  if (settled.status !== 'CONFIRMED' || !settled.paymentId) throw new Error(`A's order ended ${settled.status} without payment`);
  fx = {
    a,
    b,
    ownerA,
    ownerOf: (principal) => owners[principal],
    productId: product.id,
    productSlug: product.slug,
    categorySlug: category.slug,
    categoryId: category.id,
    addressA,
    paymentMethodA,
    orderA,
    paymentA: settled.paymentId,
  };
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

const schema = loadSupergraph();

/** Root fields the matrix does not declare, and declarations for fields the schema no longer has. */
function coverage(target: GraphQLSchema, root: 'query' | 'mutation', cases: Record<string, OperationCase>) {
  const fields = rootFieldNames(target, root);
  return {
    undeclared: fields.filter((field) => !(field in cases)),
    stale: Object.keys(cases).filter((field) => !fields.includes(field)),
  };
}

describe.each([
  ['query', QUERIES],
  ['mutation', null],
] as const)('every %s root field', (root, declared) => {
  it('has a declared expectation for every principal (new operations must be added to this matrix)', () => {
    expect(coverage(schema, root, declared ?? mutationCases(undefined as unknown as TestStack))).toEqual({
      undeclared: [],
      stale: [],
    });
  });

  it('notices a root field added to the schema without an expectation', () => {
    const grown = extendSchema(schema, parse(`extend type ${root === 'query' ? 'Query' : 'Mutation'} { somethingNew: Boolean }`));
    expect(coverage(grown, root, declared ?? mutationCases(undefined as unknown as TestStack)).undeclared).toEqual([
      'somethingNew',
    ]);
  });

  it('answers each principal as declared', async () => {
    const cases = declared ?? mutationCases(stack);
    const actual: Record<string, Record<Principal, string>> = {};
    const expected: Record<string, Record<Principal, string>> = {};
    for (const field of rootFieldNames(schema, root)) {
      const operation = cases[field];
      if (!operation) continue; // reported by the test above
      expected[field] = operation.expect;
      const row = {} as Record<Principal, string>;
      for (const principal of PRINCIPALS) {
        const { query, variables } = await operation.request(fx, principal);
        const token = tokens[principal];
        const response = await stack.query(query, variables ?? {}, token ? { authorization: token } : {});
        row[principal] = classify(response, field);
        await operation.after?.(fx, principal, response);
      }
      actual[field] = row;
    }
    const rows = Object.entries(actual).map(
      ([field, row]) => `  ${field.padEnd(24)} ${PRINCIPALS.map((who) => row[who].padEnd(16)).join('')}`,
    );
    console.log(`authorization matrix (${root}): ${PRINCIPALS.join(' / ')}\n${rows.join('\n')}`);
    expect(actual).toEqual(expected);
  }, 180_000);
});

/** The first words of a root field's description name who may call it; the matrix above is the truth. */
function audienceOf(expectation: Expectation): string {
  if (expectation.anonymous === 'ALLOW' || expectation.anonymous === 'NULL') return 'Anyone';
  if (expectation.customerA === 'FORBIDDEN') return 'Admin';
  return 'Signed in';
}

describe('schema descriptions', () => {
  it('start each root field with who may call it, as the matrix declares (the playground shows them)', () => {
    const declared = { query: QUERIES, mutation: mutationCases(undefined as unknown as TestStack) };
    const wrong: string[] = [];
    for (const root of ['query', 'mutation'] as const) {
      const type = root === 'query' ? schema.getQueryType() : schema.getMutationType();
      for (const [name, field] of Object.entries(type?.getFields() ?? {})) {
        const operation = declared[root][name];
        if (!operation) continue; // reported by the coverage test
        const audience = audienceOf(operation.expect);
        if (!field.description?.startsWith(audience))
          wrong.push(`${name}: want "${audience}…", has "${field.description ?? ''}"`);
      }
      // A type description is merged from every subgraph: it must not claim one audience for all fields.
      expect(type?.description ?? '').not.toMatch(/admin|anonymous|signed in/i);
    }
    expect(wrong).toEqual([]);
  });
});

describe('forged tokens', () => {
  it('never act as anyone: each is refused with UNAUTHENTICATED, even on public fields', async () => {
    const outcomes: Record<string, string> = {};
    for (const [attack, token] of Object.entries(forgedTokens())) {
      outcomes[attack] = classify(
        await stack.query('{ me { id } orders(first: 1) { totalCount } }', {}, { authorization: `Bearer ${token}` }),
        'me',
      );
    }
    expect(Object.values(outcomes).filter((outcome) => outcome !== 'UNAUTHENTICATED')).toEqual([]);
  });
});

describe('field-level rules', () => {
  it("keeps a category page's archived products for admins: Category.products and its includeArchived filter", async () => {
    const created = await must<{ createProduct: { id: string } }>(
      stack,
      'mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }',
      { input: { sku: `REL-${randomUUID()}`, name: `Archived ${randomUUID()}`, priceCents: 700, categoryId: fx.categoryId } },
      adminToken(),
    );
    const id = created.createProduct.id;
    await must(stack, 'mutation ($id: ID!) { archiveProduct(id: $id) { id } }', { id }, adminToken());
    const page = (includeArchived: boolean | null, token?: string) =>
      stack.query<{ category: { products: { nodes: { id: string }[] } } }>(
        'query ($id: ID, $all: Boolean) { category(id: $id) { products(first: 5, sort: NEWEST, filter: { includeArchived: $all }) { nodes { id } } } }',
        { id: fx.categoryId, all: includeArchived },
        token ? { authorization: token } : {},
      );
    const ids = (response: Awaited<ReturnType<typeof page>>) =>
      response.body.data?.category.products.nodes.map((node) => node.id);
    const code = (response: Awaited<ReturnType<typeof page>>) => response.body.errors?.[0]?.extensions?.code;

    expect(ids(await page(null, adminToken()))).not.toContain(id);
    expect(ids(await page(true, adminToken()))).toContain(id);
    expect(ids(await page(null))).not.toContain(id);
    expect(ids(await page(null, fx.a.token))).not.toContain(id);
    expect(code(await page(true))).toBe('UNAUTHENTICATED');
    expect(code(await page(true, fx.a.token))).toBe('FORBIDDEN');
  });

  const PRIVATE_PROFILE = `{ me { id email role addresses { id } defaultAddress { id }
    paymentMethods { nodes { id } } orders { nodes { id payment { id } } } } }`;

  it("shows A's email, addresses, cards, orders and payments to A", async () => {
    const result = await stack.query<{ me: Record<string, unknown> }>(PRIVATE_PROFILE, {}, { authorization: fx.a.token });
    expect(result.body.errors).toBeUndefined();
    const text = JSON.stringify(result.body.data);
    for (const id of [fx.a.email, fx.addressA, fx.paymentMethodA, fx.orderA, fx.paymentA]) expect(text).toContain(id);
  });

  it("never shows A's private fields to B: B's own profile carries none of A's ids", async () => {
    const result = await stack.query(PRIVATE_PROFILE, {}, { authorization: fx.b.token });
    expect(result.body.errors).toBeUndefined();
    const text = JSON.stringify(result.body.data);
    for (const id of [fx.a.email, fx.a.userId, fx.addressA, fx.paymentMethodA, fx.orderA, fx.paymentA])
      expect(text).not.toContain(id);
  });

  it("lets an admin read A's email, addresses and orders, but not A's saved cards", async () => {
    const result = await stack.query<{
      users: {
        nodes: {
          id: string;
          email: string;
          addresses: { id: string }[];
          orders: { nodes: { id: string; payment: { id: string } | null }[] };
        }[];
      };
    }>(
      'query ($search: String!) { users(first: 1, filter: { search: $search }) { nodes { id email addresses { id } orders { nodes { id payment { id } } } } } }',
      { search: fx.a.email },
      { authorization: adminToken() },
    );
    expect(result.body.errors).toBeUndefined();
    const userA = result.body.data?.users.nodes[0];
    expect(userA?.email).toBe(fx.a.email);
    expect(userA?.addresses.map((address) => address.id)).toContain(fx.addressA);
    expect(userA?.orders.nodes).toContainEqual({ id: fx.orderA, payment: { id: fx.paymentA } });

    const cards = await stack.query<{ users: { nodes: { paymentMethods: { nodes: { id: string }[] } | null }[] } }>(
      'query ($search: String!) { users(first: 1, filter: { search: $search }) { nodes { paymentMethods { nodes { id } } } } }',
      { search: fx.a.email },
      { authorization: adminToken() },
    );
    expect(JSON.stringify(cards.body.data ?? null)).not.toContain(fx.paymentMethodA);
  });

  it("hides A's order and its payment from B on every path: order, payment, payment.order", async () => {
    const viaOrder = await stack.query(
      'query ($id: ID!) { order(id: $id) { id payment { id } } }',
      { id: fx.orderA },
      { authorization: fx.b.token },
    );
    const viaPayment = await stack.query(
      'query ($id: ID!) { payment(id: $id) { id order { id } } }',
      { id: fx.paymentA },
      { authorization: fx.b.token },
    );
    for (const result of [viaOrder, viaPayment]) {
      expect(result.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(JSON.stringify(result.body.data ?? null)).not.toContain(fx.paymentA);
    }
    const asA = await stack.query<{ order: { payment: { id: string } | null } }>(
      'query ($id: ID!) { order(id: $id) { payment { id status amount { amountCents } } } }',
      { id: fx.orderA },
      { authorization: fx.a.token },
    );
    expect(asA.body.data?.order.payment?.id).toBe(fx.paymentA);
  });
});

describe("A's shipping address on A's order", () => {
  it("is the snapshot of A's address for A and for admins, and reaches B on no path", async () => {
    const book = await stack.query<{ me: { addresses: { id: string; recipientName: string; line1: string; city: string }[] } }>(
      '{ me { addresses { id recipientName line1 city } } }',
      {},
      { authorization: fx.a.token },
    );
    const address = book.body.data!.me.addresses.find((candidate) => candidate.id === fx.addressA)!;
    const expected = { recipientName: address.recipientName, line1: address.line1, city: address.city };
    const query = 'query ($id: ID!) { order(id: $id) { id shippingAddress { recipientName line1 city } } }';
    for (const token of [fx.a.token, adminToken()]) {
      const read = await stack.query<{ order: { shippingAddress: unknown } }>(query, { id: fx.orderA }, { authorization: token });
      expect(read.body.errors).toBeUndefined();
      expect(read.body.data!.order.shippingAddress).toEqual(expected);
    }
    const asB = await stack.query(query, { id: fx.orderA }, { authorization: fx.b.token });
    expect(asB.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(JSON.stringify(asB.body)).not.toContain(address.line1);
  });
});

describe("an admin's action in A's order history", () => {
  it('shows A the role SHOP and no staff id; the admin sees the id', async () => {
    const orderId = await fx.ownerA.order(fx.productId, fx.paymentMethodA, fx.addressA);
    const cancelled = await stack.query(
      'mutation ($id: ID!) { cancelOrder(id: $id, reason: "out of stock") { id } }',
      { id: orderId },
      { authorization: adminToken() },
    );
    expect(cancelled.body.errors).toBeUndefined();
    const history = 'query ($id: ID!) { order(id: $id) { history { to actor { type role id } } } }';
    type History = { order: { history: { to: string; actor: { type: string; role: string; id: string | null } }[] } };
    const lastActor = async (token: string) => {
      const result = await stack.query<History>(history, { id: orderId }, { authorization: token });
      expect(result.body.errors).toBeUndefined();
      return result.body.data!.order.history.find((change) => change.to === 'CANCELLED')?.actor;
    };
    expect(await lastActor(fx.a.token)).toEqual({ type: 'ADMIN', role: 'SHOP', id: null });
    expect(await lastActor(adminToken())).toEqual({ type: 'ADMIN', role: 'SHOP', id: DEMO_ADMIN_ID });
  });
});

describe("A's card in someone else's order", () => {
  it.each(['customerB', 'admin'] as const)(
    'is never charged when %s names it: the order ends CANCELLED without a capture',
    async (principal) => {
      const owner = fx.ownerOf(principal)!;
      await owner.addToCart(fx.productId);
      const ownAddress = await owner.address();
      const placed = await must<{ checkout: { id: string } }>(
        stack,
        'mutation ($pm: ID!, $address: ID!, $key: String!) { checkout(paymentMethodId: $pm, shippingAddressId: $address, idempotencyKey: $key) { id } }',
        { pm: fx.paymentMethodA, address: ownAddress, key: randomUUID() },
        owner.customer.token,
      );
      const settled = await owner.settled(placed.checkout.id);
      expect(settled.status).toBe('CANCELLED');
      if (settled.paymentId) {
        const payment = await must<{ payment: { status: string; captured: { amountCents: number } } }>(
          stack,
          'query ($id: ID!) { payment(id: $id) { status captured { amountCents } } }',
          { id: settled.paymentId },
          adminToken(),
        );
        expect(payment.payment).toEqual({ status: 'FAILED', captured: { amountCents: 0 } });
      }
    },
  );
});

describe('the response cache', () => {
  it("never serves A's private response to B or to an anonymous caller", async () => {
    const query =
      '{ products(first: 1) { nodes { id } } me { id email addresses { id } paymentMethods { nodes { id } } } cart { itemCount } }';
    const asA = await stack.query(query, {}, { authorization: fx.a.token });
    const asAAgain = await stack.query(query, {}, { authorization: fx.a.token });
    expect(JSON.stringify(asAAgain.body.data)).toContain(fx.a.email);
    expect(asAAgain.body.data).toEqual(asA.body.data);

    const asB = await stack.query(query, {}, { authorization: fx.b.token });
    expect(JSON.stringify(asB.body)).toContain(fx.b.email);
    for (const secret of [fx.a.email, fx.a.userId, fx.addressA, fx.paymentMethodA])
      expect(JSON.stringify(asB.body)).not.toContain(secret);

    const anonymous = await stack.query('{ products(first: 1) { nodes { id } } me { id email } }', {});
    expect(JSON.stringify(anonymous.body)).not.toContain(fx.a.email);
  });

  it("never serves A's order to B even after A's answer was cached", async () => {
    const query = 'query ($id: ID!) { order(id: $id) { id status payment { id } } }';
    await stack.query(query, { id: fx.orderA }, { authorization: fx.a.token });
    await stack.query(query, { id: fx.orderA }, { authorization: fx.a.token });
    const asB = await stack.query(query, { id: fx.orderA }, { authorization: fx.b.token });
    expect(asB.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(JSON.stringify(asB.body)).not.toContain(fx.paymentA);
  });
});
