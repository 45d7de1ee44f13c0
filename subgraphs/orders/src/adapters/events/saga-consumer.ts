/**
 * The orders part of the order saga (consumer group `orders.saga`): StockReserved → record the
 * catalog's prices; StockRejected and PaymentFailed → CANCELLED; PaymentCaptured → CONFIRMED. Each
 * effect runs in the inbox transaction (`processOnce`), so a redelivered event changes nothing.
 *
 * Compensation: a payment captured for an order that is already CANCELLED (the customer or the stuck
 * order sweeper cancelled it while billing was charging) is not confirmed; orders announces
 * OrderCancelled again, now with `wasConfirmed: true` and the payment id, so billing refunds it
 * (catalog's release is idempotent). The order stays CANCELLED.
 */
import { processOnce, TOPICS, type DomainEvent, type Subscription } from '@commerce/events';
import { subscribeSaga, type ServiceRuntime } from '@commerce/runtime';
import { notFound } from '@commerce/platform';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import { systemActor, type StatusChange } from '../../domain/order.ts';
import type { OrderEvent } from '../../domain/order-events.ts';
import { cancelOrder } from '../../application/cancel-order.ts';
import { confirmPayment } from '../../application/confirm-payment.ts';
import { markStockReserved } from '../../application/mark-stock-reserved.ts';
import type { Clock } from '../../ports/clock.ts';
import type { EventCause } from '../../ports/order-event-outbox.ts';
import type { OrdersTransaction, UnitOfWork } from '../../ports/unit-of-work.ts';
import { transactionPorts } from '../prisma/prisma-unit-of-work.ts';
import type { SagaOutcomeMetrics } from '../metrics/orders-metrics.ts';

export const ORDERS_SAGA_GROUP = 'orders.saga';

const causeOf = (event: DomainEvent): EventCause => ({
  id: event.id,
  correlationId: event.correlationId,
  traceparent: event.traceparent,
});

/** A unit of work that is the inbox transaction itself: the effect and the inbox record commit together. */
const within = (ports: OrdersTransaction): UnitOfWork => ({ run: (work) => work(ports) });

export async function startOrdersSaga(
  runtime: ServiceRuntime,
  prisma: PrismaClient,
  clock: Clock,
  afterCommit: () => void,
  outcomes?: SagaOutcomeMetrics,
): Promise<Subscription> {
  const apply = async (
    event: DomainEvent,
    effect: (deps: { unitOfWork: UnitOfWork; clock: Clock; ports: OrdersTransaction }) => Promise<unknown>,
  ) => {
    let changes: StatusChange[] = [];
    const applied = await processOnce(prisma, ORDERS_SAGA_GROUP, event, (tx) => {
      changes = []; // this attempt's status changes, counted once it committed
      const ports = outcomes ? outcomes.observe(transactionPorts(tx, clock), changes) : transactionPorts(tx, clock);
      return effect({ unitOfWork: within(ports), clock, ports });
    });
    if (applied) {
      outcomes?.record(changes);
      afterCommit();
    }
  };

  return subscribeSaga(runtime, {
    groupId: ORDERS_SAGA_GROUP,
    topics: [TOPICS.catalog, TOPICS.billing],
    handlers: {
      StockReserved: (event) =>
        apply(event, (deps) =>
          markStockReserved(deps, {
            orderId: event.payload.orderId,
            pricedLines: event.payload.lines.map(({ productId, quantity, unitPrice }) => ({ productId, quantity, unitPrice })),
            total: event.payload.total,
          }),
        ),
      StockRejected: (event) =>
        apply(event, (deps) =>
          cancelOrder(deps, {
            orderId: event.payload.orderId,
            reason: `Stock unavailable (${event.payload.reason})`,
            actor: systemActor('catalog'),
            cause: causeOf(event),
          }),
        ),
      PaymentFailed: (event) =>
        apply(event, (deps) =>
          cancelOrder(deps, {
            orderId: event.payload.orderId,
            reason: `Payment failed (${event.payload.reason})`,
            actor: systemActor('billing'),
            cause: causeOf(event),
          }),
        ),
      PaymentCaptured: (event) =>
        apply(event, async (deps) => {
          const order = await deps.ports.orders.lock(event.payload.orderId);
          if (!order) throw notFound('Order');
          if (order.status !== 'CANCELLED') {
            return confirmPayment(deps, { orderId: order.id, paymentId: event.payload.paymentId, cause: causeOf(event) });
          }
          runtime.logger.warn(
            { orderId: order.id, paymentId: event.payload.paymentId },
            'payment captured for a cancelled order: asking billing to refund it',
          );
          const compensation: OrderEvent = {
            type: 'OrderCancelled',
            aggregateId: order.id,
            payload: {
              orderId: order.id,
              userId: order.userId,
              previousStatus: 'CANCELLED',
              wasConfirmed: true,
              reason: 'Payment captured after the order was cancelled',
              actor: systemActor('orders'),
              paymentId: event.payload.paymentId,
              lines: order.lines.map(({ productId, quantity }) => ({ productId, quantity })),
            },
          };
          await deps.ports.outbox.append([compensation], causeOf(event));
          return order;
        }),
    },
  });
}
