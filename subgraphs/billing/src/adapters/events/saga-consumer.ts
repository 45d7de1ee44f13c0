/**
 * Billing's part of the order saga (consumer group `billing.saga`): StockReserved → charge the order
 * the catalog's priced total (PaymentCaptured | PaymentFailed); OrderCancelled → refund whatever was
 * captured (PaymentRefunded), which is nothing for an order cancelled before its charge.
 *
 * Charging and refunding talk to the payment provider, which no database transaction can include, so
 * the inbox record follows the effect instead of sharing its transaction: both use cases are
 * idempotent per order on their own (one payment row per order, provider idempotency keys derived
 * from the order), so an event redelivered before its record was written reaches the same payment
 * or refund and emits nothing new; once recorded, a redelivery is skipped without touching them.
 */
import { PermanentEventError, recordProcessed, TOPICS, type DomainEvent, type Subscription } from '@commerce/events';
import { subscribeSaga, type ServiceRuntime } from '@commerce/runtime';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { BillingDeps } from '../../application/billing-deps.ts';
import { chargeOrder, type EventCause } from '../../application/charge-order.ts';
import { refundInFull } from '../../application/refund-in-full.ts';

export const BILLING_SAGA_GROUP = 'billing.saga';

const causeOf = (event: DomainEvent): EventCause => ({
  id: event.id,
  correlationId: event.correlationId,
  traceparent: event.traceparent,
});

/** The order's payment context, which the catalog carries from OrderPlaced onto StockReserved. */
function paymentContext(event: DomainEvent<'StockReserved'>): { userId: string; paymentMethodId: string } {
  const { userId, paymentMethodId } = event.payload as { userId?: unknown; paymentMethodId?: unknown };
  if (typeof userId !== 'string' || typeof paymentMethodId !== 'string') {
    throw new PermanentEventError(`StockReserved ${event.id} carries no userId/paymentMethodId: cannot charge`);
  }
  return { userId, paymentMethodId };
}

export async function startBillingSaga(runtime: ServiceRuntime, prisma: PrismaClient, deps: BillingDeps): Promise<Subscription> {
  const processed = async (event: DomainEvent) => {
    const rows = await prisma.$queryRawUnsafe<{ found: number }[]>(
      'SELECT count(*)::int AS found FROM processed_events WHERE consumer = $1 AND event_id = $2::uuid',
      BILLING_SAGA_GROUP,
      event.id,
    );
    return Number(rows[0]?.found ?? 0) > 0;
  };
  const apply = async (event: DomainEvent, effect: () => Promise<unknown>) => {
    if (await processed(event)) return;
    await effect();
    // One statement, not a transaction: there is nothing else to commit with it.
    await recordProcessed(prisma, BILLING_SAGA_GROUP, event);
  };

  return subscribeSaga(runtime, {
    groupId: BILLING_SAGA_GROUP,
    topics: [TOPICS.catalog, TOPICS.orders],
    handlers: {
      StockReserved: (event) =>
        apply(event, () =>
          chargeOrder(deps, {
            orderId: event.payload.orderId,
            ...paymentContext(event),
            amountCents: event.payload.total.amountCents,
            currency: event.payload.total.currency,
            cause: causeOf(event),
          }),
        ),
      OrderCancelled: (event) =>
        apply(event, () =>
          refundInFull(deps, {
            orderId: event.payload.orderId,
            reason: event.payload.reason ?? 'Order cancelled',
            cause: causeOf(event),
          }),
        ),
    },
  });
}
