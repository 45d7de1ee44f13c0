/**
 * The cart page in one request: lines priced at the catalog's current prices, each line's available stock
 * and the subtotal, through the gateway in front of the real catalog and orders subgraphs (PGlite). Both
 * services' SQL is counted: the page costs the same number of statements for 1 line as for 8 (the catalog
 * is asked once per cart, not once per line). Also: addToCart refuses more than is available.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@commerce/platform';
import { createServiceRuntime } from '@commerce/runtime';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@commerce/gateway';
import { bearer, testJwtEnv } from '@commerce/testkit';
import { countStatements, type StatementLog } from '@commerce/testkit/sql-counter';
import { startService as startCatalog, type CatalogService } from '@commerce/catalog';
import { demoCatalog, seedDemoCatalog } from '@commerce/catalog/adapters/prisma/demo-catalog';
import { startService as startOrders, type OrdersService } from '../src/main.ts';

type Money = { amountCents: number; currency: string };
type Body<Data> = { data?: Data; errors?: { message: string; extensions?: Record<string, unknown> }[] };
type CartPage = {
  cart: {
    itemCount: number;
    subtotal: Money | null;
    lines: {
      quantity: number;
      available: number;
      unitPrice: Money | null;
      lineTotal: Money | null;
      product: { id: string; name: string };
    }[];
  };
};

const CART_PAGE = `{ cart { itemCount subtotal { amountCents currency }
  lines { quantity available unitPrice { amountCents currency } lineTotal { amountCents currency } product { id name } } } }`;
const ADD = `mutation($productId: ID!, $quantity: Int!) { addToCart(productId: $productId, quantity: $quantity) { itemCount } }`;
const UPDATE = `mutation($productId: ID!, $quantity: Int!) { updateCartLine(productId: $productId, quantity: $quantity) { itemCount } }`;

let catalog: CatalogService;
let orders: OrdersService;
let gateway: RunningGateway;
let gatewayUrl: string;
let catalogSql: StatementLog;
let ordersSql: StatementLog;
let products: { id: string; price: Money; stock: { available: number } }[];

async function query<Data>(
  text: string,
  variables: Record<string, unknown>,
  userId: string,
  role: 'CUSTOMER' | 'ADMIN' = 'CUSTOMER',
) {
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: bearer(userId, role) },
    body: JSON.stringify({ query: text, variables }),
  });
  return (await response.json()) as Body<Data>;
}

/** The request's own statements: the outbox relays' polling and transaction brackets are not the page's. */
const pageStatements = (log: StatementLog) =>
  log.statements.filter((sql) => !/outbox_events/.test(sql) && !/^\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(sql)).length;

beforeAll(async () => {
  const env = {
    ...testJwtEnv(),
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    KAFKA_BROKERS: '',
    CATALOG_PORT: '0',
    ORDERS_PORT: '0',
    CATALOG_MANAGEMENT_PORT: '0',
    ORDERS_MANAGEMENT_PORT: '0',
    CATALOG_DATABASE_URL: 'pglite:memory',
    ORDERS_DATABASE_URL: 'pglite:memory',
  };
  const silent = (service: string) => createLogger({ service, level: 'silent' });
  const catalogRuntime = await createServiceRuntime('catalog', { env, logger: silent('catalog') });
  const countedCatalog = countStatements(catalogRuntime.database.adapter);
  catalogSql = countedCatalog.log;
  catalog = await startCatalog({ ...catalogRuntime, database: { ...catalogRuntime.database, adapter: countedCatalog.adapter } });
  await seedDemoCatalog(catalog.prisma);
  const ordersEnv = { ...env, CATALOG_URL: catalog.url };
  const ordersRuntime = await createServiceRuntime('orders', { env: ordersEnv, logger: silent('orders') });
  const countedOrders = countStatements(ordersRuntime.database.adapter);
  ordersSql = countedOrders.log;
  orders = await startOrders({ ...ordersRuntime, database: { ...ordersRuntime.database, adapter: countedOrders.adapter } });
  gateway = await startGateway(
    loadGatewayConfig({
      ...ordersEnv,
      ORDERS_URL: orders.url,
      GATEWAY_PORT: '0',
      GATEWAY_MANAGEMENT_PORT: '0',
      GATEWAY_RESPONSE_CACHE: 'false',
      GATEWAY_RATE_LIMIT_POINTS: '1000000',
    }),
    silent('gateway'),
    { bus: catalogRuntime.bus },
  );
  gatewayUrl = `http://127.0.0.1:${gateway.port}/graphql`;
  const listed = await query<{ products: { nodes: typeof products } }>(
    '{ products(first: 10, filter: { inStock: true }) { nodes { id price { amountCents currency } stock { available } } } }',
    {},
    'shopper',
  );
  products = listed.data!.products.nodes;
  expect(products.length).toBeGreaterThanOrEqual(8);
  expect(demoCatalog().products.length).toBeGreaterThanOrEqual(8);
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await orders?.stop();
  await catalog?.stop();
});

async function cartPageWith(lineCount: number) {
  const shopper = `shopper-${randomUUID()}`;
  for (const product of products.slice(0, lineCount)) {
    expect((await query(ADD, { productId: product.id, quantity: 2 }, shopper)).errors).toBeUndefined();
  }
  catalogSql.reset();
  ordersSql.reset();
  const page = await query<CartPage>(CART_PAGE, {}, shopper);
  return { page, catalogStatements: pageStatements(catalogSql), ordersStatements: pageStatements(ordersSql) };
}

describe('the cart page', () => {
  it('prices every line at the catalog price, with its available stock and the subtotal', async () => {
    const { page } = await cartPageWith(3);
    expect(page.errors).toBeUndefined();
    const cart = page.data!.cart;
    expect(cart.lines).toHaveLength(3);
    cart.lines.forEach((line, index) => {
      const product = products[index]!;
      expect(line.product.id).toBe(product.id);
      expect(line.unitPrice).toEqual(product.price);
      expect(line.lineTotal).toEqual({ amountCents: product.price.amountCents * 2, currency: product.price.currency });
      expect(line.available).toBe(product.stock.available);
    });
    const expected = products.slice(0, 3).reduce((sum, product) => sum + product.price.amountCents * 2, 0);
    expect(cart.subtotal).toEqual({ amountCents: expected, currency: products[0]!.price.currency });
  });

  it('costs the same SQL for 1 line as for 8 (one catalog lookup per cart)', async () => {
    const one = await cartPageWith(1);
    const eight = await cartPageWith(8);
    expect(eight.page.data!.cart.lines).toHaveLength(8);
    console.log(
      `cart page SQL statements: 1 line → orders ${one.ordersStatements}, catalog ${one.catalogStatements}; ` +
        `8 lines → orders ${eight.ordersStatements}, catalog ${eight.catalogStatements}`,
    );
    expect(eight.ordersStatements).toBe(one.ordersStatements);
    expect(eight.catalogStatements).toBe(one.catalogStatements);
  });

  it('has an empty subtotal for an empty cart', async () => {
    const page = await query<CartPage>(CART_PAGE, {}, `shopper-${randomUUID()}`);
    expect(page.data!.cart).toMatchObject({ itemCount: 0, lines: [], subtotal: { amountCents: 0 } });
  });
});

describe('stock at add-to-cart', () => {
  it('refuses more than is available with INSUFFICIENT_STOCK and extensions.available; a sold-out product too', async () => {
    const shopper = `shopper-${randomUUID()}`;
    const product = products[0]!;
    const available = product.stock.available;
    const tooMany = await query(ADD, { productId: product.id, quantity: Math.min(99, available + 1) }, shopper);
    if (available < 99) {
      expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_STOCK', available });
    }
    // Three left, then ninety-nine asked for.
    const admin = 'admin-1';
    const scarce = products[1]!;
    const adjusted = await query(
      'mutation($id: ID!, $delta: Int!) { adjustStock(productId: $id, delta: $delta, reason: "count") { id } }',
      { id: scarce.id, delta: 3 - scarce.stock.available },
      admin,
      'ADMIN',
    );
    expect(adjusted.errors).toBeUndefined();
    const refused = await query(ADD, { productId: scarce.id, quantity: 99 }, shopper);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_STOCK', available: 3 });
    expect((await query(ADD, { productId: scarce.id, quantity: 3 }, shopper)).errors).toBeUndefined();
    const raised = await query(UPDATE, { productId: scarce.id, quantity: 4 }, shopper);
    expect(raised.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_STOCK', available: 3 });

    const soldOut = products[2]!;
    await query(
      'mutation($id: ID!, $delta: Int!) { adjustStock(productId: $id, delta: $delta, reason: "count") { id } }',
      { id: soldOut.id, delta: -soldOut.stock.available },
      admin,
      'ADMIN',
    );
    const none = await query(ADD, { productId: soldOut.id, quantity: 1 }, shopper);
    expect(none.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_STOCK', available: 0 });
    const cart = await query<CartPage>(CART_PAGE, {}, shopper);
    expect(cart.data!.cart.lines.map((line) => [line.product.id, line.quantity, line.available])).toEqual([[scarce.id, 3, 3]]);
  });
});

describe('a product id that is no UUID', () => {
  it('is NOT_FOUND at add-to-cart, not a catalog outage (the catalog refuses such an id with BAD_USER_INPUT)', async () => {
    const shopper = `shopper-${randomUUID()}`;
    for (const productId of ['not-a-uuid', "1' OR '1'='1"]) {
      const answer = await query(ADD, { productId, quantity: 1 }, shopper);
      expect(answer.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });
});
