/**
 * Races across the whole order saga in full mode: real PostgreSQL (a fresh database per service)
 * and a real Kafka broker (topics prefixed per run). N customers check out the last K units at once;
 * exactly K orders may be confirmed and charged, the rest cancelled, and stock must end at exactly 0.
 * Retries of one checkout or one refund racing each other must have one effect.
 */
import { randomUUID } from 'node:crypto';
import { describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import { Owner, adminToken, must, registerCustomer, waitFor } from './support/graph.ts';

const CUSTOMERS = 12;
const UNITS = 4;

interface BillingProbe {
  fakeProvider: { chargeCount: number } | null;
}

describeWithServers(['TEST_DATABASE_URL', 'TEST_KAFKA_BROKERS'], 'saga races (PostgreSQL + Kafka)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      database: 'postgres',
      env: {
        KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!,
        KAFKA_TOPIC_PREFIX: `reliability-${randomUUID()}.`,
        GATEWAY_EVENTS_GROUP_ID: `reliability-${randomUUID()}`,
        GATEWAY_RATE_LIMIT_POINTS: '100000',
        GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '100000',
      },
    });
  }, 300_000);
  afterAll(() => stack?.stop(), 60_000);

  const charges = () => (stack.services.billing as unknown as BillingProbe).fakeProvider!.chargeCount;

  async function productWithStock(units: number): Promise<string> {
    const data = await must<{ createProduct: { id: string } }>(
      stack,
      'mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }',
      { input: { sku: `RACE-${randomUUID()}`, name: `Last units ${randomUUID()}`, priceCents: 2_500, initialStock: units } },
      adminToken(),
    );
    return data.createProduct.id;
  }

  async function shopper(productId: string) {
    const owner = new Owner(stack, await registerCustomer(stack, 'race'));
    const [address, card] = [await owner.address(), await owner.paymentMethod()];
    await owner.addToCart(productId);
    return { owner, address, card };
  }

  const CHECKOUT =
    'mutation ($pm: ID!, $address: ID!, $key: String!) { checkout(paymentMethodId: $pm, shippingAddressId: $address, idempotencyKey: $key) { id } }';

  it(`confirms exactly ${UNITS} of ${CUSTOMERS} concurrent checkouts for the last ${UNITS} units, charges ${UNITS} times, leaves stock at 0`, async () => {
    const productId = await productWithStock(UNITS);
    const shoppers = await Promise.all(Array.from({ length: CUSTOMERS }, () => shopper(productId)));
    const chargesBefore = charges();

    const placed = await Promise.all(
      shoppers.map(({ owner, address, card }) =>
        stack.query<{ checkout: { id: string } }>(
          CHECKOUT,
          { pm: card, address, key: randomUUID() },
          { authorization: owner.customer.token },
        ),
      ),
    );
    expect(placed.map((result) => result.body.errors ?? [])).toEqual(shoppers.map(() => []));

    const settled = await Promise.all(shoppers.map(({ owner }, index) => owner.settled(placed[index]!.body.data!.checkout.id)));
    const statuses = settled.map((order) => order.status).sort();
    expect(statuses.filter((status) => status === 'CONFIRMED')).toHaveLength(UNITS);
    expect(statuses.filter((status) => status === 'CANCELLED')).toHaveLength(CUSTOMERS - UNITS);

    const stock = await must<{ product: { stock: { available: number; onHand: number; reserved: number } } }>(
      stack,
      'query ($id: ID!) { product(id: $id) { stock { available onHand reserved } } }',
      { id: productId },
      adminToken(),
    );
    expect(stock.product.stock).toEqual({ available: 0, onHand: UNITS, reserved: UNITS });
    // Charges settle after confirmation is visible; give the provider's count a moment to stop moving.
    await waitFor(async () => (charges() - chargesBefore >= UNITS ? true : undefined), 'the charges', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(charges() - chargesBefore).toBe(UNITS);
    expect(settled.filter((order) => order.status === 'CONFIRMED').every((order) => order.paymentId)).toBe(true);
  }, 300_000);

  it('answers 10 racing retries of one checkout with one order', async () => {
    const productId = await productWithStock(10);
    const { owner, address, card } = await shopper(productId);
    const key = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        stack.query<{ checkout: { id: string } }>(CHECKOUT, { pm: card, address, key }, { authorization: owner.customer.token }),
      ),
    );
    const ids = new Set(results.map((result) => result.body.data?.checkout.id ?? JSON.stringify(result.body.errors)));
    expect([...ids]).toHaveLength(1);
    const orders = await must<{ me: { orders: { totalCount: number } } }>(
      stack,
      '{ me { orders { totalCount } } }',
      {},
      owner.customer.token,
    );
    expect(orders.me.orders.totalCount).toBe(1);
  }, 120_000);

  it('answers 10 racing retries of one refund with one refund of the amount', async () => {
    const productId = await productWithStock(10);
    const { owner, address, card } = await shopper(productId);
    const placed = await must<{ checkout: { id: string } }>(
      stack,
      CHECKOUT,
      { pm: card, address, key: randomUUID() },
      owner.customer.token,
    );
    const { status, paymentId } = await owner.settled(placed.checkout.id);
    expect(status).toBe('CONFIRMED');
    const key = randomUUID();
    const REFUND =
      'mutation ($id: ID!, $key: String!) { refundPayment(paymentId: $id, amountCents: 700, reason: "race", idempotencyKey: $key) { id } }';
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        stack.query<{ refundPayment: { id: string } }>(REFUND, { id: paymentId, key }, { authorization: adminToken() }),
      ),
    );
    const ids = new Set(results.map((result) => result.body.data?.refundPayment.id ?? JSON.stringify(result.body.errors)));
    expect([...ids]).toHaveLength(1);
    const payment = await must<{ payment: { refunded: { amountCents: number }; refunds: { totalCount: number } } }>(
      stack,
      'query ($id: ID!) { payment(id: $id) { refunded { amountCents } refunds { totalCount } } }',
      { id: paymentId },
      adminToken(),
    );
    expect(payment.payment).toEqual({ refunded: { amountCents: 700 }, refunds: { totalCount: 1 } });
  }, 120_000);
});
