/**
 * Child process: the soak's traffic driver. Sends mixed traffic through the gateway at a fixed rate for
 * a fixed time, follows every checkout until CONFIRMED or CANCELLED, and prints one JSON line
 * `{"ready":true,"result":DriverResult}`. Usage: driver.ts <file with a DriverSpec as JSON>; the admin
 * token comes in SOAK_ADMIN_AUTHORIZATION (not in the spec file).
 *
 * Classes (each on its own fixed-rate ticker; a tick beyond the in-flight cap is dropped and counted,
 * so a stalled stack shows up as drops instead of an ever-growing queue):
 *  - storefront: anonymous, cacheable — listing pages, search, product detail;
 *  - customers: a session is login, cart, addToCart, checkout (idempotency key; every 10th retried with
 *    the same key, which must return the same order), my orders; then the order is polled until settled;
 *  - admin: in turn create product, update product (read version, then update), add stock, list orders,
 *    ship a CONFIRMED order.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { STOREFRONT_PAGE } from '../../bench/src/queries.ts';
import {
  OperationRecorder,
  TRAFFIC_CLASSES,
  classStats,
  percentiles,
  type DriverResult,
  type DriverSpec,
  type TrafficClass,
} from './spec.ts';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as DriverSpec;
const ADMIN = process.env.SOAK_ADMIN_AUTHORIZATION ?? '';
const REQUEST_TIMEOUT_MS = 10_000;
const FOLLOW_INTERVAL_MS = 1000;
const RUN = Date.now().toString(36);

const recorders = Object.fromEntries(TRAFFIC_CLASSES.map((name) => [name, new Map<string, OperationRecorder>()])) as Record<
  TrafficClass,
  Map<string, OperationRecorder>
>;
const dropped: Record<TrafficClass, number> = { storefront: 0, customers: 0, admin: 0 };
const inFlight: Record<TrafficClass, number> = { storefront: 0, customers: 0, admin: 0 };

interface GraphQLError {
  message?: string;
  extensions?: { code?: string };
}

/**
 * One request, recorded under its class and operation. Returns `data` when the request succeeded (or
 * ended in one of the `expected` business codes: then `undefined` too), `undefined` otherwise.
 */
async function call<Data>(
  trafficClass: TrafficClass,
  operation: string,
  query: string,
  variables: Record<string, unknown> = {},
  authorization?: string,
  expected: readonly string[] = [],
): Promise<Data | undefined> {
  let recorder = recorders[trafficClass].get(operation);
  if (!recorder) recorders[trafficClass].set(operation, (recorder = new OperationRecorder()));
  const started = performance.now();
  let outcome: { error?: string; expected?: string };
  let data: Data | undefined;
  try {
    const response = await fetch(spec.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    let body: { data?: Data | null; errors?: GraphQLError[] } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not JSON: classified by status below
    }
    const codes = (body.errors ?? []).map((error) => error.extensions?.code ?? 'NO_CODE');
    if (!response.ok) {
      outcome = { error: `HTTP_${response.status}${codes[0] ? `:${codes[0]}` : ''}` };
    } else if (codes.length > 0) {
      const unexpected = codes.find((code) => !expected.includes(code));
      outcome = unexpected ? { error: unexpected } : { expected: codes[0] };
    } else if (body.data === undefined || body.data === null) {
      outcome = { error: 'NO_DATA' };
    } else {
      outcome = {};
      data = body.data;
    }
  } catch (error) {
    const name = (error as Error).name;
    outcome = { error: name === 'TimeoutError' || name === 'AbortError' ? 'TIMEOUT' : 'NETWORK' };
  }
  recorder.record(performance.now() - started, outcome);
  return data;
}

/** An error the driver itself detected (e.g. a retried checkout returning another order). */
function recordViolation(trafficClass: TrafficClass, operation: string, code: string): void {
  let recorder = recorders[trafficClass].get(operation);
  if (!recorder) recorders[trafficClass].set(operation, (recorder = new OperationRecorder()));
  recorder.errors++;
  recorder.errorsByCode[code] = (recorder.errorsByCode[code] ?? 0) + 1;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)]!;

// ---------------------------------------------------------------- setup (not counted)

async function setupGraph<Data>(query: string, variables: Record<string, unknown> = {}, authorization?: string): Promise<Data> {
  const response = await fetch(spec.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await response.json()) as { data?: Data; errors?: GraphQLError[] };
  if (!response.ok || body.errors || !body.data) {
    throw new Error(
      `setup: HTTP ${response.status} ${body.errors?.map((e) => `${e.extensions?.code}: ${e.message}`).join('; ')}`,
    );
  }
  return body.data;
}

interface Customer {
  email: string;
  password: string;
  addressId: string;
  paymentMethodId: string;
  busy: boolean;
}

async function registerCustomer(index: number): Promise<Customer> {
  const email = `soak-${RUN}-${index}@example.com`;
  const password = `soak-${randomUUID()}`;
  const { register } = await setupGraph<{ register: { accessToken: string } }>(
    `mutation ($email: String!, $password: String!, $name: String!) { register(email: $email, password: $password, name: $name) { accessToken } }`,
    { email, password, name: `Soak Customer ${index}` },
  );
  const authorization = `Bearer ${register.accessToken}`;
  const { addAddress } = await setupGraph<{ addAddress: { id: string } }>(
    `mutation ($input: AddressInput!) { addAddress(input: $input) { id } }`,
    {
      input: {
        recipientName: `Soak Customer ${index}`,
        line1: '1 Soak Street',
        city: 'Loopback',
        postalCode: '12345',
        country: 'US',
      },
    },
    authorization,
  );
  const { addPaymentMethod } = await setupGraph<{ addPaymentMethod: { id: string } }>(
    `mutation { addPaymentMethod(token: "tok_visa", makeDefault: true) { id } }`,
    {},
    authorization,
  );
  return { email, password, addressId: addAddress.id, paymentMethodId: addPaymentMethod.id, busy: false };
}

const catalog = await setupGraph<{
  products: { nodes: { id: string; slug: string; name: string; stock: { available: number } }[] };
  categories: { id: string }[];
}>(`{ products(first: 100, filter: { inStock: true }) { nodes { id slug name stock { available } } } categories { id } }`);
/** Products customers buy (seeded ones with stock, plus those the admin creates). */
const buyable = catalog.products.nodes.filter((product) => product.stock.available >= 10).map((product) => product.id);
const slugs = catalog.products.nodes.map((product) => product.slug);
const searchWords = [
  ...new Set(catalog.products.nodes.flatMap((product) => product.name.toLowerCase().match(/[a-z]{4,}/g) ?? [])),
];
const categoryIds = catalog.categories.map((category) => category.id);
if (buyable.length === 0 || searchWords.length === 0) throw new Error('setup: the demo catalog has no products in stock');
const customers: Customer[] = [];
for (let i = 0; i < spec.customers; i++) customers.push(await registerCustomer(i));

// ---------------------------------------------------------------- storefront

async function storefrontRequest(): Promise<void> {
  const roll = Math.random();
  if (roll < 0.45) {
    const variables: Record<string, unknown> = { first: pick([12, 24]) };
    await call('storefront', 'products page', STOREFRONT_PAGE, variables);
  } else if (roll < 0.55) {
    await call(
      'storefront',
      'category page',
      `query ($categoryId: ID!) { products(first: 24, filter: { categoryId: $categoryId }) { totalCount nodes { id slug name price { amountCents currency } stock { inStock } } } }`,
      { categoryId: pick(categoryIds) },
    );
  } else if (roll < 0.75) {
    await call(
      'storefront',
      'search',
      `query ($search: String!) { products(first: 10, filter: { search: $search }) { totalCount nodes { id slug name price { amountCents currency } } } }`,
      { search: pick(searchWords) },
    );
  } else {
    await call(
      'storefront',
      'product detail',
      `query ($slug: String!) { product(slug: $slug) { id name description price { amountCents currency } images { url alt } attributes { name value } category { id name } stock { available inStock } } }`,
      { slug: pick(slugs) },
    );
  }
}

// ---------------------------------------------------------------- customers

const orderFollows = new Set<Promise<void>>();
const confirmedLatencies: number[] = [];
const orderCounts = { placed: 0, confirmed: 0, cancelled: 0, stuck: 0, idempotentRetries: 0, idempotencyMismatches: 0 };
let sessions = 0;

async function customerSession(customer: Customer): Promise<void> {
  const session = ++sessions;
  try {
    const login = await call<{ login: { accessToken: string } }>(
      'customers',
      'login',
      `mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }`,
      { email: customer.email, password: customer.password },
    );
    if (!login) return;
    const authorization = `Bearer ${login.login.accessToken}`;
    await call(
      'customers',
      'cart',
      `{ cart { itemCount lines { quantity product { id name price { amountCents } } } } }`,
      {},
      authorization,
    );
    const lines = session % 3 === 0 ? 2 : 1;
    for (let i = 0; i < lines; i++) {
      const added = await call(
        'customers',
        'addToCart',
        `mutation ($productId: ID!) { addToCart(productId: $productId, quantity: 1) { itemCount } }`,
        { productId: pick(buyable) },
        authorization,
      );
      if (!added) return;
    }
    const idempotencyKey = randomUUID();
    const checkoutQuery = `mutation ($paymentMethodId: ID!, $shippingAddressId: ID!, $idempotencyKey: String!) {
      checkout(paymentMethodId: $paymentMethodId, shippingAddressId: $shippingAddressId, idempotencyKey: $idempotencyKey) { id status }
    }`;
    const checkoutVariables = {
      paymentMethodId: customer.paymentMethodId,
      shippingAddressId: customer.addressId,
      idempotencyKey,
    };
    const placed = await call<{ checkout: { id: string } }>(
      'customers',
      'checkout',
      checkoutQuery,
      checkoutVariables,
      authorization,
    );
    if (!placed) return;
    orderCounts.placed++;
    const orderId = placed.checkout.id;
    const follow = followOrder(orderId, authorization);
    orderFollows.add(follow);
    void follow.finally(() => orderFollows.delete(follow));
    if (session % 10 === 0) {
      orderCounts.idempotentRetries++;
      const again = await call<{ checkout: { id: string } }>(
        'customers',
        'checkout (retry, same key)',
        checkoutQuery,
        checkoutVariables,
        authorization,
      );
      if (again && again.checkout.id !== orderId) {
        orderCounts.idempotencyMismatches++;
        recordViolation('customers', 'checkout (retry, same key)', 'IDEMPOTENCY_VIOLATED');
      }
    }
    await call(
      'customers',
      'my orders',
      `{ me { id orders(first: 5) { totalCount nodes { id number status itemCount } } } }`,
      {},
      authorization,
    );
  } finally {
    customer.busy = false;
  }
}

/** Polls the order (as its owner) until it leaves PENDING or the settle timeout runs out. */
async function followOrder(orderId: string, authorization: string): Promise<void> {
  const deadline = Date.now() + spec.settleTimeoutSeconds * 1000;
  while (Date.now() < deadline) {
    await sleep(FOLLOW_INTERVAL_MS);
    const data = await call<{ order: { status: string; history: { to: string; at: string }[] } | null }>(
      'customers',
      'order status',
      `query ($id: ID!) { order(id: $id) { status history { to at } } }`,
      { id: orderId },
      authorization,
    );
    const order = data?.order;
    if (!order || order.status === 'PENDING') continue;
    if (order.status === 'CANCELLED') {
      orderCounts.cancelled++;
      return;
    }
    // CONFIRMED, or already SHIPPED by the admin traffic: it went through CONFIRMED.
    orderCounts.confirmed++;
    const placedAt = order.history[0]?.at;
    const confirmedAt = order.history.find((change) => change.to === 'CONFIRMED')?.at;
    if (placedAt && confirmedAt) confirmedLatencies.push(Date.parse(confirmedAt) - Date.parse(placedAt));
    return;
  }
  orderCounts.stuck++;
}

// ---------------------------------------------------------------- admin

let adminTurn = 0;
let restockTurn = 0;

async function adminAction(): Promise<void> {
  const turn = adminTurn++ % 5;
  if (turn === 0) {
    const created = await call<{ createProduct: { id: string } }>(
      'admin',
      'createProduct',
      `mutation ($input: CreateProductInput!) { createProduct(input: $input) { id slug version stock { available } } }`,
      {
        input: {
          sku: `SOAK-${RUN}-${adminTurn}`,
          name: `Soak product ${RUN} ${adminTurn}`,
          description: 'Created by the soak run',
          priceCents: 500 + (adminTurn % 50) * 100,
          categoryId: pick(categoryIds),
          initialStock: 100,
        },
      },
      ADMIN,
    );
    if (created) buyable.push(created.createProduct.id);
  } else if (turn === 1) {
    const id = pick(buyable);
    const read = await call<{ product: { id: string; version: number; price: { amountCents: number } } | null }>(
      'admin',
      'product for update',
      `query ($id: ID!) { product(id: $id) { id version price { amountCents } } }`,
      { id },
      ADMIN,
    );
    if (!read?.product) return;
    const cents = read.product.price.amountCents;
    await call(
      'admin',
      'updateProduct',
      `mutation ($input: UpdateProductInput!) { updateProduct(input: $input) { id version price { amountCents } } }`,
      { input: { id, version: read.product.version, priceCents: cents % 2 === 0 ? cents + 1 : cents - 1 } },
      ADMIN,
      ['CONFLICT'],
    );
  } else if (turn === 2) {
    // Restock in turn, so what the customers buy never runs out.
    await call(
      'admin',
      'adjustStock',
      `mutation ($productId: ID!) { adjustStock(productId: $productId, delta: 50, reason: "soak restock") { id stock { available onHand reserved } } }`,
      { productId: buyable[restockTurn++ % buyable.length] },
      ADMIN,
    );
  } else if (turn === 3) {
    await call(
      'admin',
      'list orders',
      `{ orders(first: 20) { totalCount nodes { id number status itemCount createdAt } } }`,
      {},
      ADMIN,
    );
  } else {
    const confirmed = await call<{ orders: { nodes: { id: string }[] } }>(
      'admin',
      'confirmed orders',
      `{ orders(first: 5, filter: { status: CONFIRMED }) { nodes { id } } }`,
      {},
      ADMIN,
    );
    const order = confirmed?.orders.nodes[0];
    if (order) {
      await call('admin', 'shipOrder', `mutation ($id: ID!) { shipOrder(id: $id) { id status } }`, { id: order.id }, ADMIN, [
        'CONFLICT',
        'BAD_USER_INPUT',
      ]);
    }
  }
}

// ---------------------------------------------------------------- the run

/** Starts `task` every 1/perSecond s until `until`; a tick over the in-flight cap is dropped. */
async function ticker(trafficClass: TrafficClass, perSecond: number, until: number, task: () => Promise<void> | undefined) {
  if (!(perSecond > 0)) return;
  const interval = 1000 / perSecond;
  const running = new Set<Promise<void>>();
  const start = performance.now();
  for (let tick = 0; ; tick++) {
    await sleep(start + tick * interval - performance.now());
    if (Date.now() >= until) break;
    if (inFlight[trafficClass] >= spec.maxInFlightPerClass) {
      dropped[trafficClass]++;
      continue;
    }
    const started = task();
    if (!started) {
      dropped[trafficClass]++;
      continue;
    }
    inFlight[trafficClass]++;
    const tracked = started
      .catch(() => undefined)
      .finally(() => {
        inFlight[trafficClass]--;
        running.delete(tracked);
      });
    running.add(tracked);
  }
  await Promise.all(running);
}

const startedAt = new Date();
const loadStart = performance.now();
const until = Date.now() + spec.durationSeconds * 1000;
process.stderr.write(
  `soak driver: ${customers.length} customers, ${buyable.length} products; load for ${spec.durationSeconds}s\n`,
);
await Promise.all([
  ticker('storefront', spec.rates.storefrontPerSecond, until, storefrontRequest),
  ticker('customers', spec.rates.checkoutsPerMinute / 60, until, () => {
    const customer = customers.find((candidate) => !candidate.busy);
    if (!customer) return undefined;
    customer.busy = true;
    return customerSession(customer);
  }),
  ticker('admin', spec.rates.adminActionsPerMinute / 60, until, adminAction),
]);
const loadSeconds = (performance.now() - loadStart) / 1000;
const settleStart = performance.now();
while (orderFollows.size > 0) await Promise.all([...orderFollows]);
const settleSeconds = (performance.now() - settleStart) / 1000;

const result: DriverResult = {
  startedAt: startedAt.toISOString(),
  loadSeconds,
  settleSeconds,
  classes: Object.fromEntries(
    TRAFFIC_CLASSES.map((name) => [name, classStats(recorders[name], dropped[name])]),
  ) as DriverResult['classes'],
  orders: { ...orderCounts, checkoutToConfirmedMs: percentiles(confirmedLatencies) },
};
process.stdout.write(JSON.stringify({ ready: true, result }) + '\n');
