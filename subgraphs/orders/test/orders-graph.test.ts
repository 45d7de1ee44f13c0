/**
 * The orders graph end to end in embedded mode: the gateway in front of every subgraph (PGlite), the
 * catalog serving the demo products the cart checks and the gateway resolves. One stack for the file.
 * The saga runs here too (in-process bus): orders paid with a saved test card are priced by the catalog
 * and confirmed by billing on their own, so these tests wait for it rather than driving it by hand.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { bearer, startTestStack, subgraphAccessHeaders, type TestStack } from '@commerce/testkit';
import type { OrdersService } from '../src/main.ts';

let stack: TestStack;
let orders: OrdersService;
let products: { id: string; price: { amountCents: number; currency: string } }[];
/** Registered shoppers (users knows them: checkout reads their address books), set in beforeAll. */
let alice: string;
let bob: string;
/** Each shopper's home address id (users). */
const homes = new Map<string, string>();
const as = (userId: string, role: 'CUSTOMER' | 'ADMIN' = 'CUSTOMER') => ({ authorization: bearer(userId, role) });
const ADMIN = as('admin-1', 'ADMIN');

const ORDER_FIELDS = `id number status itemCount
  lines { quantity unitPrice { amountCents currency } lineTotal { amountCents } product { id name } }
  totals { subtotal { amountCents currency } total { amountCents currency } }
  history { from to reason actor { type role id } at }
  createdAt updatedAt`;

const CART = `cart { itemCount lines { quantity product { id name price { amountCents } } } }`;
const ADD = `mutation($productId: ID!, $quantity: Int!) { addToCart(productId: $productId, quantity: $quantity) { itemCount } }`;
const ADDRESS_FIELDS = 'label recipientName line1 line2 city region postalCode country phone';
const CHECKOUT = `mutation($key: String!, $card: ID!, $address: ID!) {
  checkout(paymentMethodId: $card, shippingAddressId: $address, idempotencyKey: $key) { ${ORDER_FIELDS} shippingAddress { ${ADDRESS_FIELDS} } }
}`;
const HOME = {
  label: 'Home',
  recipientName: 'Alice Liddell',
  line1: '1 Rabbit Hole',
  line2: null,
  city: 'Oxford',
  region: null,
  postalCode: 'OX1 1AA',
  country: 'GB',
  phone: '+44 1865 000000',
};

/** Registers a shopper with users; the test key signs their tokens, so `as(id)` is them. */
async function register(name: string): Promise<string> {
  const { body } = await stack.query<{ register: { user: { id: string } } }>(
    'mutation ($email: String!, $name: String!) { register(email: $email, password: "correct horse battery", name: $name) { user { id } } }',
    { email: `${name}-${randomUUID()}@example.test`, name },
  );
  expect(body.errors).toBeUndefined();
  return body.data!.register.user.id;
}

async function addAddress(userId: string, input: Record<string, unknown>): Promise<string> {
  const { body } = await stack.query<{ addAddress: { id: string } }>(
    'mutation ($input: AddressInput!) { addAddress(input: $input) { id } }',
    { input },
    as(userId),
  );
  expect(body.errors).toBeUndefined();
  return body.data!.addAddress.id;
}
/** Each shopper's saved test card (billing), so the saga can charge their orders. */
const cards = new Map<string, string>();

type Order = {
  id: string;
  number: string;
  status: string;
  itemCount: number;
  lines: { quantity: number; unitPrice: unknown; lineTotal: unknown; product: { id: string; name: string } }[];
  totals: { subtotal: { amountCents: number }; total: { amountCents: number; currency: string } } | null;
  history: { from: string | null; to: string; reason: string | null; actor: { type: string; role: string; id: string | null } }[];
};

const codeOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => body.errors?.[0]?.extensions?.code;

async function checkoutCart(userId: string, lines: [string, number][], key = randomUUID()): Promise<Order> {
  for (const [productId, quantity] of lines) {
    const added = await stack.query(ADD, { productId, quantity }, as(userId));
    expect(added.body.errors).toBeUndefined();
  }
  const { body } = await stack.query<{ checkout: Order }>(
    CHECKOUT,
    { key, card: cards.get(userId), address: homes.get(userId) },
    as(userId),
  );
  expect(body.errors).toBeUndefined();
  return body.data!.checkout;
}

async function waitForStatus(orderId: string, userId: string, statuses: string[]): Promise<Order> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { body } = await stack.query<{ order: Order }>(
      `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`,
      { id: orderId },
      as(userId),
    );
    if (body.data?.order && statuses.includes(body.data.order.status)) return body.data.order;
    if (Date.now() > deadline) throw new Error(`order ${orderId} never reached ${statuses.join('/')}: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  stack = await startTestStack({ seed: true });
  orders = stack.services.orders as OrdersService;
  const { body } = await stack.query<{ products: { nodes: typeof products } }>(
    '{ products(first: 4) { nodes { id price { amountCents currency } } } }',
  );
  products = body.data!.products.nodes;
  expect(products).toHaveLength(4);
  alice = await register('alice');
  bob = await register('bob');
  for (const shopper of [alice, bob]) {
    homes.set(shopper, await addAddress(shopper, HOME));
    const saved = await stack.query<{ addPaymentMethod: { id: string } }>(
      'mutation { addPaymentMethod(token: "tok_visa") { id } }',
      {},
      as(shopper),
    );
    expect(saved.body.errors).toBeUndefined();
    cards.set(shopper, saved.body.data!.addPaymentMethod.id);
  }
}, 180_000);
afterAll(() => stack?.stop());

describe('cart through the gateway', () => {
  it('needs a signed-in viewer', async () => {
    const { body } = await stack.query(`{ ${CART} }`);
    expect(codeOf(body)).toBe('UNAUTHENTICATED');
  });

  it('keeps product references that the gateway resolves from the catalog', async () => {
    const [p1, p2] = products;
    await stack.query(ADD, { productId: p1!.id, quantity: 2 }, as(alice));
    await stack.query(ADD, { productId: p2!.id, quantity: 1 }, as(alice));
    const { body } = await stack.query<{
      cart: {
        itemCount: number;
        lines: { quantity: number; product: { id: string; name: string; price: { amountCents: number } } }[];
      };
    }>(`{ ${CART} }`, {}, as(alice));
    expect(body.errors).toBeUndefined();
    expect(body.data!.cart.itemCount).toBe(3);
    expect(body.data!.cart.lines.map((line) => [line.product.id, line.quantity, line.product.price.amountCents])).toEqual([
      [p1!.id, 2, p1!.price.amountCents],
      [p2!.id, 1, p2!.price.amountCents],
    ]);
    expect(body.data!.cart.lines[0]!.product.name.length).toBeGreaterThan(0);
    // Bob's cart is his own.
    const bobs = await stack.query<{ cart: { itemCount: number } }>(`{ ${CART} }`, {}, as(bob));
    expect(bobs.body.data!.cart.itemCount).toBe(0);
    await stack.query('mutation { clearCart { itemCount } }', {}, as(alice));
  });

  it('refuses unknown and archived products (NOT_FOUND) and bad quantities (BAD_USER_INPUT naming the field)', async () => {
    const unknown = await stack.query(ADD, { productId: randomUUID(), quantity: 1 }, as(alice));
    expect(codeOf(unknown.body)).toBe('NOT_FOUND');
    const archivedId = products[3]!.id;
    const archived = await stack.query('mutation($id: ID!) { archiveProduct(id: $id) { id } }', { id: archivedId }, ADMIN);
    expect(archived.body.errors).toBeUndefined();
    expect(codeOf((await stack.query(ADD, { productId: archivedId, quantity: 1 }, as(alice))).body)).toBe('NOT_FOUND');
    for (const quantity of [0, 100]) {
      const { body } = await stack.query(ADD, { productId: products[0]!.id, quantity }, as(alice));
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'quantity' });
    }
  });
});

describe('checkout and orders through the gateway', () => {
  it('places a PENDING unpriced order, empties the cart, and answers a retry with the same order', async () => {
    const key = randomUUID();
    const order = await checkoutCart(alice, [[products[0]!.id, 2]], key);
    expect(order).toMatchObject({ status: 'PENDING', itemCount: 2, totals: null });
    expect(order.number).toMatch(/^ORD-\d{6}$/);
    expect(order.lines).toEqual([
      { quantity: 2, unitPrice: null, lineTotal: null, product: expect.objectContaining({ id: products[0]!.id }) },
    ]);
    expect(order.history).toEqual(
      [{ from: null, to: 'PENDING', reason: 'Order placed', actor: { type: 'CUSTOMER', role: 'CUSTOMER', id: null } }].map((h) =>
        expect.objectContaining(h),
      ),
    );
    const cart = await stack.query<{ cart: { itemCount: number } }>(`{ ${CART} }`, {}, as(alice));
    expect(cart.body.data!.cart.itemCount).toBe(0);

    const retry = await stack.query<{ checkout: Order }>(
      CHECKOUT,
      { key, card: cards.get(alice), address: homes.get(alice) },
      as(alice),
    );
    expect(retry.body.data!.checkout.id).toBe(order.id);
    await stack.query(ADD, { productId: products[1]!.id, quantity: 1 }, as(alice));
    const reused = await stack.query(CHECKOUT, { key, card: cards.get(alice), address: homes.get(alice) }, as(alice));
    expect(reused.body.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    await stack.query('mutation { clearCart { itemCount } }', {}, as(alice));
  });

  it('places mobile orders from given lines', async () => {
    const { body } = await stack.query<{ placeOrder: Order }>(
      `mutation($lines: [OrderLineInput!]!, $key: String!, $card: ID!, $address: ID!) {
        placeOrder(lines: $lines, paymentMethodId: $card, shippingAddressId: $address, idempotencyKey: $key) { ${ORDER_FIELDS} }
      }`,
      {
        lines: [{ productId: products[1]!.id, quantity: 3 }],
        key: randomUUID(),
        card: cards.get(alice),
        address: homes.get(alice),
      },
      as(alice),
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.placeOrder).toMatchObject({ status: 'PENDING', itemCount: 3 });
  });

  it('never shows or lets anyone else cancel an order: NOT_FOUND, exactly as for a missing one', async () => {
    const order = await checkoutCart(alice, [[products[0]!.id, 1]]);
    const read = (id: string, who: Record<string, string>) =>
      stack.query<{ order: Order | null }>(`query($id: ID!) { order(id: $id) { id status } }`, { id }, who);
    const cancel = (id: string, who: Record<string, string>) =>
      stack.query<{ cancelOrder: Order }>(
        `mutation($id: ID!) { cancelOrder(id: $id, reason: "mine now") { id status } }`,
        { id },
        who,
      );

    expect((await read(order.id, as(alice))).body.data!.order!.id).toBe(order.id);
    expect((await read(order.id, ADMIN)).body.data!.order!.id).toBe(order.id);
    const bobReads = await read(order.id, as(bob));
    const bobReadsMissing = await read(randomUUID(), as(bob));
    expect(bobReads.body.data?.order ?? null).toBeNull();
    expect(codeOf(bobReads.body)).toBe('NOT_FOUND');
    expect(bobReads.body.errors![0]!.message).toBe(bobReadsMissing.body.errors![0]!.message);
    const bobCancels = await cancel(order.id, as(bob));
    expect(codeOf(bobCancels.body)).toBe('NOT_FOUND');
    // Bob's attempt changed nothing: the saga carries the order to CONFIRMED, not CANCELLED.
    expect((await waitForStatus(order.id, alice, ['CONFIRMED', 'CANCELLED'])).status).toBe('CONFIRMED');

    const aliceCancels = await cancel(order.id, as(alice));
    expect(aliceCancels.body.data!.cancelOrder.status).toBe('CANCELLED');
  });

  it('shows prices and totals only once the catalog priced the order, then follows it to DELIVERED', async () => {
    const [p1, p2] = products;
    const order = await checkoutCart(alice, [
      [p1!.id, 2],
      [p2!.id, 1],
    ]);
    const ship = (who: Record<string, string>) =>
      stack.query(`mutation($id: ID!) { shipOrder(id: $id) { status } }`, { id: order.id }, who);
    expect(order.totals).toBeNull(); // priced by the catalog, never by the client
    expect(codeOf((await ship(as(alice))).body)).toBe('FORBIDDEN');

    // The saga: the catalog reserves and prices the lines, billing captures, orders confirms.
    const total = 2 * p1!.price.amountCents + p2!.price.amountCents;
    const confirmed = await waitForStatus(order.id, alice, ['CONFIRMED', 'CANCELLED']);
    expect(confirmed.status).toBe('CONFIRMED');
    expect(confirmed.totals?.total).toEqual({ amountCents: total, currency: p1!.price.currency });

    expect((await ship(ADMIN)).body.errors).toBeUndefined();
    const delivered = await stack.query<{ deliverOrder: Order }>(
      `mutation($id: ID!) { deliverOrder(id: $id) { ${ORDER_FIELDS} } }`,
      { id: order.id },
      ADMIN,
    );
    expect(delivered.body.errors).toBeUndefined();
    const final = delivered.body.data!.deliverOrder;
    expect(final.totals).toEqual({
      subtotal: { amountCents: total, currency: p1!.price.currency },
      total: { amountCents: total, currency: p1!.price.currency },
    });
    expect(final.lines.map((line) => line.lineTotal)).toEqual([
      { amountCents: 2 * p1!.price.amountCents },
      { amountCents: p2!.price.amountCents },
    ]);
    expect(final.history.map((change) => `${change.from}→${change.to}:${change.actor.type}`)).toEqual([
      'null→PENDING:CUSTOMER',
      'PENDING→CONFIRMED:SYSTEM',
      'CONFIRMED→SHIPPED:ADMIN',
      'SHIPPED→DELIVERED:ADMIN',
    ]);
    // Admins see who acted; the customer sees roles only, never the staff member's user id.
    expect(final.history.map((change) => change.actor.id)).toEqual([alice, 'billing', 'admin-1', 'admin-1']);
    const seenByAlice = await waitForStatus(order.id, alice, ['DELIVERED']);
    expect(seenByAlice.history.map((change) => change.actor)).toEqual([
      { type: 'CUSTOMER', role: 'CUSTOMER', id: null },
      { type: 'SYSTEM', role: 'SYSTEM', id: null },
      { type: 'ADMIN', role: 'SHOP', id: null },
      { type: 'ADMIN', role: 'SHOP', id: null },
    ]);
    expect(JSON.stringify(seenByAlice)).not.toContain('admin-1');
    expect(
      codeOf((await stack.query(`mutation($id: ID!) { cancelOrder(id: $id) { id } }`, { id: order.id }, as(alice))).body),
    ).toBe('CONFLICT');
  });

  it('lists orders for admins only, filtered by status and user', async () => {
    const query = `query($filter: OrderFilter) { orders(first: 50, filter: $filter) { totalCount nodes { id status } } }`;
    expect(codeOf((await stack.query(query, {}, as(alice))).body)).toBe('FORBIDDEN');
    const { body } = await stack.query<{ orders: { totalCount: number; nodes: { status: string }[] } }>(
      query,
      { filter: { userId: alice, status: 'CANCELLED' } },
      ADMIN,
    );
    expect(body.data!.orders.totalCount).toBe(1);
    expect(body.data!.orders.nodes.map((node) => node.status)).toEqual(['CANCELLED']);
  });
});

describe('the orders subgraph as other subgraphs see it', () => {
  const entities = (representations: unknown[], who: Record<string, string>) =>
    fetch(orders.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...subgraphAccessHeaders('orders'), ...who },
      body: JSON.stringify({
        query: `query($representations: [_Any!]!) { _entities(representations: $representations) {
          ... on Order { id status }
          ... on User { id orders(first: 10) { totalCount nodes { id } } }
        } }`,
        variables: { representations },
      }),
    }).then(
      (response) =>
        response.json() as Promise<{ data?: { _entities: unknown[] }; errors?: { extensions?: { code?: string } }[] }>,
    );

  it('resolves order references in one batch, hiding other users’ orders', async () => {
    const mine = [await checkoutCart(bob, [[products[0]!.id, 1]]), await checkoutCart(bob, [[products[1]!.id, 1]])];
    const alicesOrder = await checkoutCart(alice, [[products[0]!.id, 1]]);
    const findByIds = jest.spyOn(orders.deps.orders, 'findByIds');
    try {
      const body = await entities(
        [...mine, alicesOrder].map((order) => ({ __typename: 'Order', id: order.id })),
        as(bob),
      );
      const live = expect.stringMatching(/^(PENDING|CONFIRMED)$/); // the saga may already have confirmed them
      expect(body.data!._entities).toEqual([{ id: mine[0]!.id, status: live }, { id: mine[1]!.id, status: live }, null]);
      expect(findByIds).toHaveBeenCalledTimes(1);
      expect(findByIds.mock.calls[0]![0]).toHaveLength(3);
    } finally {
      findByIds.mockRestore();
    }
  });

  it('adds User.orders: own orders only, admins any', async () => {
    const own = await entities([{ __typename: 'User', id: bob }], as(bob));
    expect(own.data!._entities).toEqual([{ id: bob, orders: expect.objectContaining({ totalCount: 2 }) }]);
    const admin = await entities([{ __typename: 'User', id: bob }], ADMIN);
    expect(admin.data!._entities).toEqual(own.data!._entities);
    const other = await entities([{ __typename: 'User', id: bob }], as(alice));
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(other.data!._entities).toEqual([{ id: bob, orders: null }]);
  });
});

describe('the shipping address snapshot', () => {
  const readOrder = (orderId: string, headers: Record<string, string>) =>
    stack.query<{ order: { id: string; shippingAddress: Record<string, unknown> | null } | null }>(
      `query($id: ID!) { order(id: $id) { id shippingAddress { ${ADDRESS_FIELDS} } } }`,
      { id: orderId },
      headers,
    );
  const checkoutTo = (userId: string, address: string, key = randomUUID()) =>
    stack.query<{ checkout: Order & { shippingAddress: unknown } }>(
      CHECKOUT,
      { key, card: cards.get(userId), address },
      as(userId),
    );

  it('keeps the address as it was at checkout, for the buyer and admins; later edits and removal do not change it', async () => {
    const carol = await register('carol');
    const card = await stack.query<{ addPaymentMethod: { id: string } }>(
      'mutation { addPaymentMethod(token: "tok_visa") { id } }',
      {},
      as(carol),
    );
    cards.set(carol, card.body.data!.addPaymentMethod.id);
    const studio = {
      recipientName: 'Carol',
      line1: '5 Studio Lane',
      line2: 'Unit 2',
      city: 'Leeds',
      postalCode: 'LS1 1AA',
      country: 'GB',
    };
    const addressId = await addAddress(carol, studio);
    await stack.query(ADD, { productId: products[0]!.id, quantity: 1 }, as(carol));
    const placed = await checkoutTo(carol, addressId);
    expect(placed.body.errors).toBeUndefined();
    const snapshot = { label: null, region: null, phone: null, ...studio };
    expect(placed.body.data!.checkout.shippingAddress).toEqual(snapshot);
    const orderId = placed.body.data!.checkout.id;

    const edited = await stack.query(
      'mutation ($id: ID!) { updateAddress(id: $id, input: { city: "York", line1: "9 Other Road" }) { id } }',
      { id: addressId },
      as(carol),
    );
    expect(edited.body.errors).toBeUndefined();
    expect((await readOrder(orderId, as(carol))).body.data!.order!.shippingAddress).toEqual(snapshot);
    const removed = await stack.query('mutation ($id: ID!) { removeAddress(id: $id) }', { id: addressId }, as(carol));
    expect(removed.body.errors).toBeUndefined();
    expect((await readOrder(orderId, as(carol))).body.data!.order!.shippingAddress).toEqual(snapshot);
    expect((await readOrder(orderId, ADMIN)).body.data!.order!.shippingAddress).toEqual(snapshot);
    expect((await readOrder(orderId, as(bob))).body.data?.order ?? null).toBeNull();
  });

  it("refuses someone else's address and an unknown one with BAD_USER_INPUT: no order, and the key stays usable", async () => {
    const dave = await register('dave');
    cards.set(dave, cards.get(alice)!); // never charged: no order is placed with it below
    await stack.query(ADD, { productId: products[0]!.id, quantity: 1 }, as(dave));
    const key = randomUUID();
    for (const address of [homes.get(alice)!, 'no-such-address', randomUUID()]) {
      const { body } = await checkoutTo(dave, address, key);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'shippingAddressId' });
      expect(body.data ?? null).toBeNull();
    }
    const listed = await stack.query<{ orders: { totalCount: number } }>(
      'query($userId: ID!) { orders(filter: { userId: $userId }) { totalCount } }',
      { userId: dave },
      ADMIN,
    );
    expect(listed.body.data!.orders.totalCount).toBe(0);
    expect(
      (await stack.query<{ cart: { itemCount: number } }>('{ cart { itemCount } }', {}, as(dave))).body.data!.cart.itemCount,
    ).toBe(1);
    // The key was not used up: the same key with dave's own address places the order.
    const own = await addAddress(dave, {
      recipientName: 'Dave',
      line1: '2 Own Road',
      city: 'Bath',
      postalCode: 'BA1 1AA',
      country: 'GB',
    });
    const placed = await checkoutTo(dave, own, key);
    expect(placed.body.errors).toBeUndefined();
    expect(placed.body.data!.checkout.shippingAddress).toMatchObject({ recipientName: 'Dave', city: 'Bath' });
  });

  // Last in the file: it stops the users service.
  it('is SERVICE_UNAVAILABLE while users is down, and no order is placed', async () => {
    const erin = await register('erin');
    const address = await addAddress(erin, {
      recipientName: 'Erin',
      line1: '3 Down St',
      city: 'Hull',
      postalCode: 'HU1 1AA',
      country: 'GB',
    });
    cards.set(erin, cards.get(alice)!);
    await stack.query(ADD, { productId: products[0]!.id, quantity: 1 }, as(erin));
    await stack.services.users!.stop();
    const { body } = await checkoutTo(erin, address);
    expect(body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(body.data ?? null).toBeNull();
    const listed = await stack.query<{ orders: { totalCount: number } }>(
      'query($userId: ID!) { orders(filter: { userId: $userId }) { totalCount } }',
      { userId: erin },
      ADMIN,
    );
    expect(listed.body.data!.orders.totalCount).toBe(0);
  });
});
