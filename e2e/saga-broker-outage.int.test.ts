/**
 * The broker goes away for ~30 s while customers check out (its own broker, stopped and started again
 * with its data kept). Nothing may be lost: outboxes hold the events, relays publish them when it is
 * back, consumers resume. Orders left without an answer meanwhile are cancelled by the stuck-order
 * sweeper (ORDER_PENDING_TIMEOUT_MS), and whatever the saga does for them afterwards is compensated:
 * every order ends CONFIRMED or CANCELLED, no cancelled order keeps money, and the stock reserved is
 * exactly that of the confirmed orders.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import { PrivateBroker } from './private-broker.ts';
import {
  newShopper,
  placeOrder,
  settled,
  stockedProducts,
  stockOf,
  viewOrder,
  waitForOrder,
  type OrderView,
  type Shopper,
} from './saga-support.ts';

jest.setTimeout(300_000);

const OUTAGE_MS = Number(process.env.SAGA_OUTAGE_MS ?? 30_000);
// Long enough for orders placed during the outage to finish after it, short enough that the sweeper may
// cancel the earliest of them: both endings must leave the books straight.
const PENDING_TIMEOUT_MS = 60_000;

describeWithServers(['TEST_KAFKA_BROKERS', 'TEST_DATABASE_URL'], 'order saga during a broker outage', () => {
  const broker = new PrivateBroker(Number(process.env.SAGA_OUTAGE_KAFKA_PORT ?? 19392));
  let stack: TestStack;

  beforeAll(async () => {
    await broker.start();
    stack = await startTestStack({
      database: 'postgres',
      seed: true,
      env: {
        KAFKA_BROKERS: broker.brokers,
        KAFKA_TOPIC_PREFIX: `e2e-${randomUUID().slice(0, 8)}.`,
        ORDER_PENDING_TIMEOUT_MS: String(PENDING_TIMEOUT_MS),
      },
    });
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
    await broker.destroy();
  });

  it('loses nothing: every order ends CONFIRMED or CANCELLED, and cancelled ones keep no money or stock', async () => {
    const [productId] = await stockedProducts(stack.query, 40);
    const before = await stockOf(stack.query, productId!);
    const shopper = await newShopper(stack.query, 'tok_visa');
    const orders: { id: string; quantity: number }[] = [];
    const checkout = async (quantity: number) => {
      orders.push({ id: await placeOrder(stack.query, shopper, [{ productId: productId!, quantity }]), quantity });
    };

    for (const quantity of [1, 2]) await checkout(quantity);
    for (const order of orders)
      expect((await waitForOrder(stack.query, shopper, order.id, settled, 60_000)).status).toBe('CONFIRMED');
    await broker.stop();
    const outageEnds = Date.now() + OUTAGE_MS;
    // Checkouts keep working while the broker is down: they only write to the orders database.
    for (const quantity of [1, 3, 2, 1]) {
      await checkout(quantity);
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS / 8));
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, outageEnds - Date.now())));
    await broker.start();

    // Settled and compensated: polled until the saga is quiet (late captures refunded, stock released).
    const deadline = Date.now() + 150_000;
    let views: OrderView[] = [];
    let problems: string[] = ['not checked yet'];
    while (Date.now() < deadline && problems.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      views = await Promise.all(orders.map((order) => viewOrder(stack.query, shopper as Shopper, order.id)));
      problems = views.flatMap((view) => {
        if (view.status === 'PENDING') return [`${view.id} PENDING`];
        if (
          view.status === 'CANCELLED' &&
          view.payment &&
          view.payment.captured.amountCents !== view.payment.refunded.amountCents
        ) {
          return [`${view.id} cancelled but keeps ${view.payment.captured.amountCents - view.payment.refunded.amountCents}`];
        }
        return [];
      });
      const confirmedUnits = orders
        .filter((_, index) => views[index]!.status === 'CONFIRMED')
        .reduce((sum, order) => sum + order.quantity, 0);
      const stock = await stockOf(stack.query, productId!);
      if (stock.reserved !== before.reserved + confirmedUnits) {
        problems.push(`reserved ${stock.reserved}, expected ${before.reserved + confirmedUnits}`);
      }
    }

    expect(problems).toEqual([]);
    expect(views.every((view) => view.status === 'CONFIRMED' || view.status === 'CANCELLED')).toBe(true);
    // Events of the orders placed during the outage waited in the outboxes and went through after it.
    expect(views.slice(2).some((view) => view.status === 'CONFIRMED')).toBe(true);
    for (const view of views.filter((candidate) => candidate.status === 'CONFIRMED')) {
      expect(view.payment?.captured.amountCents).toBe(view.totals?.total.amountCents);
    }
  });
});
