/**
 * The order saga in embedded mode: every subgraph in this process on PGlite, one in-process bus
 * (outbox → relay → consumers with inbox dedup, as on Kafka), driven through the gateway.
 */
import { jest } from '@jest/globals';
import { startTestStack, type TestStack } from '@commerce/testkit';
import type { OrdersService } from '../subgraphs/orders/src/main.ts';
import type { CatalogService } from '../subgraphs/catalog/src/main.ts';
import type { BillingService } from '../subgraphs/billing/src/main.ts';
import { sagaPathTests } from './saga-scenarios.ts';
import { viewOrder, waitForOrder, insertUnannouncedOrder } from './saga-support.ts';

jest.setTimeout(60_000);

describe('order saga (embedded, in-process bus)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ seed: true });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  sagaPathTests(() => stack, ['happy', 'declined', 'insufficient', 'cancelAfterConfirm']);

  it('a stuck PENDING order is cancelled by the sweeper with compensation: stock released, a late capture refunded', async () => {
    const orders = stack.services.orders as unknown as OrdersService;
    const catalog = stack.services.catalog as unknown as CatalogService;
    const { shopper, order: stuck } = await insertUnannouncedOrder(stack, 120_000);

    expect(await orders.sweeper.sweep()).toEqual([stuck.id]);
    expect((await viewOrder(stack.query, shopper, stuck.id)).status).toBe('CANCELLED');
    // Its OrderCancelled reached the catalog: a release marker, so a late OrderPlaced would be rejected.
    const deadline = Date.now() + 10_000;
    let reservation = await catalog.prisma.stockReservation.findUnique({ where: { orderId: stuck.id } });
    while (!reservation && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      reservation = await catalog.prisma.stockReservation.findUnique({ where: { orderId: stuck.id } });
    }
    expect(reservation?.status).toBe('RELEASED');
    // A second sweep finds nothing: the order is no longer PENDING.
    expect(await orders.sweeper.sweep()).toEqual([]);

    // The saga's answer comes after all: billing captures a payment for the cancelled order. Orders
    // keeps it CANCELLED and asks for a refund, which billing makes in full.
    const billing = stack.services.billing as unknown as BillingService;
    const payment = await billing.chargeOrder({
      orderId: stuck.id,
      userId: shopper.userId,
      paymentMethodId: shopper.paymentMethodId,
      amountCents: 1234,
      currency: 'USD',
    });
    expect(payment.status).toBe('CAPTURED');
    const refunded = await waitForOrder(
      stack.query,
      shopper,
      stuck.id,
      (order) => (order.payment?.refunded.amountCents ?? 0) > 0,
    );
    expect(refunded.status).toBe('CANCELLED');
    expect(refunded.payment).toMatchObject({
      status: 'REFUNDED',
      captured: { amountCents: 1234 },
      refunded: { amountCents: 1234 },
    });
  });
});
