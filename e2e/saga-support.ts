/**
 * Drives the order saga through the gateway as a shopper would: register, add an address and a card,
 * place an order, poll it until the saga settles it. Shared by the embedded and the Kafka e2e tests.
 */
import { randomUUID } from 'node:crypto';
import { bearer, type TestStack } from '@commerce/testkit';
import type { OrdersService } from '../subgraphs/orders/src/main.ts';
import { newOrder, systemActor, type NewOrder } from '../subgraphs/orders/src/domain/order.ts';

export const ADMIN = { authorization: bearer(randomUUID(), 'ADMIN') };

export interface Shopper {
  userId: string;
  headers: Record<string, string>;
  addressId: string;
  paymentMethodId: string;
}

export interface StockLevels {
  available: number;
  onHand: number;
  reserved: number;
}

export interface OrderView {
  id: string;
  status: 'PENDING' | 'CONFIRMED' | 'CANCELLED' | 'SHIPPED' | 'DELIVERED';
  totals: { total: { amountCents: number; currency: string } } | null;
  payment: {
    id: string;
    status: string;
    captured: { amountCents: number };
    refunded: { amountCents: number };
  } | null;
}

type Query = TestStack['query'];

async function data<T>(
  query: Query,
  text: string,
  variables: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<T> {
  const { body } = await query<T>(text, variables, headers);
  if (body.errors?.length || !body.data) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const SHOPPER_ADDRESS = {
  recipientName: 'Saga Shopper',
  line1: '1 Event Street',
  city: 'Kafka',
  postalCode: '10115',
  country: 'DE',
};

/** A registered customer with a shipping address and a card saved from `token` (tok_visa, tok_chargeDeclined, ...). */
export async function newShopper(query: Query, token = 'tok_visa'): Promise<Shopper> {
  const email = `saga-${randomUUID()}@example.test`;
  const { register } = await data<{ register: { accessToken: string; user: { id: string } } }>(
    query,
    'mutation ($email: String!, $password: String!, $name: String!) { register(email: $email, password: $password, name: $name) { accessToken user { id } } }',
    { email, password: 'correct horse battery', name: 'Saga Shopper' },
    {},
  );
  const headers = { authorization: `Bearer ${register.accessToken}` };
  const { addAddress } = await data<{ addAddress: { id: string } }>(
    query,
    'mutation ($input: AddressInput!) { addAddress(input: $input) { id } }',
    { input: SHOPPER_ADDRESS },
    headers,
  );
  const { addPaymentMethod } = await data<{ addPaymentMethod: { id: string } }>(
    query,
    'mutation ($token: String!) { addPaymentMethod(token: $token) { id } }',
    { token },
    headers,
  );
  return { userId: register.user.id, headers, addressId: addAddress.id, paymentMethodId: addPaymentMethod.id };
}

/** Active products with at least `minAvailable` units to sell, most stocked first. */
export async function stockedProducts(query: Query, minAvailable: number): Promise<string[]> {
  const { products } = await data<{ products: { edges: { node: { id: string; stock: { available: number } } }[] } }>(
    query,
    'query { products(first: 50, filter: { inStock: true }) { edges { node { id stock { available } } } } }',
    {},
    ADMIN,
  );
  return products.edges
    .map((edge) => edge.node)
    .filter((node) => node.stock.available >= minAvailable)
    .sort((a, b) => b.stock.available - a.stock.available)
    .map((node) => node.id);
}

export async function stockOf(query: Query, productId: string): Promise<StockLevels> {
  const { product } = await data<{ product: { stock: StockLevels } }>(
    query,
    'query ($id: ID!) { product(id: $id) { stock { available onHand reserved } } }',
    { id: productId },
    ADMIN,
  );
  return product.stock;
}

/** Sets a product's available units to `available` (an admin stock adjustment). */
export async function setAvailable(query: Query, productId: string, available: number): Promise<void> {
  const current = await stockOf(query, productId);
  await data(
    query,
    'mutation ($id: ID!, $delta: Int!) { adjustStock(productId: $id, delta: $delta, reason: "saga e2e") { id } }',
    { id: productId, delta: available - current.available },
    ADMIN,
  );
}

export async function placeOrder(
  query: Query,
  shopper: Shopper,
  lines: { productId: string; quantity: number }[],
): Promise<string> {
  const { placeOrder: order } = await data<{ placeOrder: { id: string; status: string } }>(
    query,
    `mutation ($lines: [OrderLineInput!]!, $pm: ID!, $address: ID!, $key: String!) {
       placeOrder(lines: $lines, paymentMethodId: $pm, shippingAddressId: $address, idempotencyKey: $key) { id status }
     }`,
    { lines, pm: shopper.paymentMethodId, address: shopper.addressId, key: randomUUID() },
    shopper.headers,
  );
  return order.id;
}

const ORDER_FIELDS = `id status totals { total { amountCents currency } }
  payment { id status captured { amountCents } refunded { amountCents } }`;

export async function viewOrder(query: Query, shopper: Shopper, orderId: string): Promise<OrderView> {
  const { order } = await data<{ order: OrderView }>(
    query,
    `query ($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`,
    { id: orderId },
    shopper.headers,
  );
  return order;
}

/** Polls the order through the gateway until `done` holds (the saga is asynchronous). */
export async function waitForOrder(
  query: Query,
  shopper: Shopper,
  orderId: string,
  done: (order: OrderView) => boolean,
  timeoutMs = 20_000,
): Promise<OrderView> {
  const deadline = Date.now() + timeoutMs;
  let last: OrderView | undefined;
  while (Date.now() < deadline) {
    last = await viewOrder(query, shopper, orderId).catch(() => last);
    if (last && done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`order ${orderId} did not settle in ${timeoutMs} ms; last seen: ${JSON.stringify(last)}`);
}

export const settled = (order: OrderView) => order.status === 'CONFIRMED' || order.status === 'CANCELLED';

export async function cancelAsCustomer(query: Query, shopper: Shopper, orderId: string): Promise<void> {
  await data(
    query,
    'mutation ($id: ID!) { cancelOrder(id: $id, reason: "changed my mind") { id status } }',
    { id: orderId },
    shopper.headers,
  );
}

/**
 * A shopper's PENDING order written `ageMs` ago straight into the orders store and never announced (as if
 * its OrderPlaced were lost): nothing in the saga will ever answer it.
 */
export async function insertUnannouncedOrder(stack: TestStack, ageMs: number): Promise<{ shopper: Shopper; order: NewOrder }> {
  const orders = stack.services.orders as unknown as OrdersService;
  const shopper = await newShopper(stack.query, 'tok_visa');
  const [productId] = await stockedProducts(stack.query, 1);
  const order = newOrder({
    id: randomUUID(),
    userId: shopper.userId,
    lines: [{ productId: productId!, quantity: 1 }],
    paymentMethodId: shopper.paymentMethodId,
    shippingAddressId: shopper.addressId,
    shippingAddress: { ...SHOPPER_ADDRESS, label: null, line2: null, region: null, phone: null },
    actor: systemActor('test'),
    at: new Date(Date.now() - ageMs),
  });
  await orders.deps.unitOfWork.run((tx) => tx.orders.insert(order));
  return { shopper, order };
}
