/**
 * The order saga's paths, as tests over a running stack (embedded with the in-process bus, or on real
 * Kafka + PostgreSQL): each checks the order through the gateway, the stock in the catalog and the
 * payment in billing.
 */
import type { TestStack } from '@commerce/testkit';
import {
  cancelAsCustomer,
  newShopper,
  placeOrder,
  setAvailable,
  stockedProducts,
  stockOf,
  waitForOrder,
  settled,
  type StockLevels,
} from './saga-support.ts';

interface BillingProbe {
  prisma: { payment: { count(args: { where: { orderId: string } }): Promise<number> } };
}

async function paymentsFor(stack: TestStack, orderId: string): Promise<number> {
  return (stack.services.billing as unknown as BillingProbe).prisma.payment.count({ where: { orderId } });
}

async function waitForStock(stack: TestStack, productId: string, done: (stock: StockLevels) => boolean): Promise<StockLevels> {
  const deadline = Date.now() + 15_000;
  let stock = await stockOf(stack.query, productId);
  while (!done(stock) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    stock = await stockOf(stack.query, productId);
  }
  return stock;
}

export type SagaPath = 'happy' | 'insufficient' | 'declined' | 'cancelAfterConfirm';

export function sagaPathTests(stackOf: () => TestStack, paths: SagaPath[], timeoutMs = 20_000): void {
  // Each test orders a different product, so an earlier test's late compensation cannot move its stock.
  let products: string[] = [];
  const product = (index: number) => {
    const id = products[index];
    if (!id) throw new Error(`the seeded catalog has too few stocked products (${products.length})`);
    return id;
  };
  beforeAll(async () => {
    products = await stockedProducts(stackOf().query, 5);
  });

  if (paths.includes('happy')) {
    it('happy path: the order is CONFIRMED, its stock reserved, and it is charged once at the catalog total', async () => {
      const stack = stackOf();
      const shopper = await newShopper(stack.query, 'tok_visa');
      const productId = product(0);
      const before = await stockOf(stack.query, productId);

      const orderId = await placeOrder(stack.query, shopper, [{ productId, quantity: 2 }]);
      const order = await waitForOrder(stack.query, shopper, orderId, settled, timeoutMs);

      expect(order.status).toBe('CONFIRMED');
      expect(order.totals?.total.amountCents).toBeGreaterThan(0);
      expect(order.payment?.status).toBe('CAPTURED');
      expect(order.payment?.captured.amountCents).toBe(order.totals?.total.amountCents);
      expect(await stockOf(stack.query, productId)).toEqual({
        available: before.available - 2,
        onHand: before.onHand,
        reserved: before.reserved + 2,
      });
      expect(await paymentsFor(stack, orderId)).toBe(1);
    });
  }

  if (paths.includes('insufficient')) {
    it('insufficient stock: the order is CANCELLED and nothing is charged', async () => {
      const stack = stackOf();
      const shopper = await newShopper(stack.query, 'tok_visa');
      const productId = product(1);
      await setAvailable(stack.query, productId, 1);
      const before = await stockOf(stack.query, productId);

      const orderId = await placeOrder(stack.query, shopper, [{ productId, quantity: 2 }]);
      const order = await waitForOrder(stack.query, shopper, orderId, settled, timeoutMs);

      expect(order.status).toBe('CANCELLED');
      expect(order.payment).toBeNull();
      expect(await paymentsFor(stack, orderId)).toBe(0);
      expect(await stockOf(stack.query, productId)).toEqual(before);
    });
  }

  if (paths.includes('declined')) {
    it('declined card: the order is CANCELLED and its reserved stock released', async () => {
      const stack = stackOf();
      const shopper = await newShopper(stack.query, 'tok_chargeDeclined');
      const productId = product(2);
      const before = await stockOf(stack.query, productId);

      const orderId = await placeOrder(stack.query, shopper, [{ productId, quantity: 3 }]);
      const order = await waitForOrder(stack.query, shopper, orderId, settled, timeoutMs);

      expect(order.status).toBe('CANCELLED');
      expect(order.payment?.status).toBe('FAILED');
      expect(order.payment?.captured.amountCents).toBe(0);
      // The release follows PaymentFailed on the catalog's side, independently of the order's cancel.
      expect(await waitForStock(stack, productId, (stock) => stock.reserved === before.reserved)).toEqual(before);
    });
  }

  if (paths.includes('cancelAfterConfirm')) {
    it('customer cancel after confirmation: the payment is refunded in full and the stock released', async () => {
      const stack = stackOf();
      const shopper = await newShopper(stack.query, 'tok_visa');
      const productId = product(3);
      const before = await stockOf(stack.query, productId);
      const orderId = await placeOrder(stack.query, shopper, [{ productId, quantity: 1 }]);
      const confirmed = await waitForOrder(stack.query, shopper, orderId, settled, timeoutMs);
      expect(confirmed.status).toBe('CONFIRMED');
      expect((await stockOf(stack.query, productId)).reserved).toBe(before.reserved + 1);

      await cancelAsCustomer(stack.query, shopper, orderId);
      const refunded = await waitForOrder(
        stack.query,
        shopper,
        orderId,
        (order) => (order.payment?.refunded.amountCents ?? 0) > 0,
        timeoutMs,
      );

      expect(refunded.status).toBe('CANCELLED');
      expect(refunded.payment?.status).toBe('REFUNDED');
      expect(refunded.payment?.refunded.amountCents).toBe(confirmed.payment?.captured.amountCents);
      expect(await waitForStock(stack, productId, (stock) => stock.reserved === before.reserved)).toEqual(before);
      expect(await paymentsFor(stack, orderId)).toBe(1);
    });
  }
}
