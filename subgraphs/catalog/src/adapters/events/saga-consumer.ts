/**
 * The catalog's part of the order saga (consumer group `catalog.saga`):
 * OrderPlaced → reserve stock (StockReserved | StockRejected); PaymentFailed and OrderCancelled →
 * release it; OrderShipped → commit it. Each effect runs in the inbox transaction (`processOnce`), so a
 * redelivered event finds its record and changes nothing.
 */
import { processOnce, TOPICS, type DomainEvent, type Subscription } from '@commerce/events';
import { subscribeSaga, type ServiceRuntime } from '@commerce/runtime';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { CatalogEvent } from '../../domain/events.ts';
import type { CatalogStore, EventCause } from '../../ports/catalog-store.ts';
import { catalogStoreWithin } from '../prisma/prisma-catalog-store.ts';
import { reserveStock } from '../../application/reserve-stock.ts';
import { releaseStock } from '../../application/release-stock.ts';
import { commitStock } from '../../application/commit-stock.ts';

export const CATALOG_SAGA_GROUP = 'catalog.saga';

const causeOf = (event: DomainEvent): EventCause => ({
  correlationId: event.correlationId,
  causationId: event.id,
  traceparent: event.traceparent,
});

/**
 * StockReserved carries the order's payment context (who pays, with which method) on to billing, which
 * charges on it: the catalog reserves for the order as placed, billing needs nothing else to charge.
 */
function withPaymentContext(store: CatalogStore, placed: DomainEvent<'OrderPlaced'>): CatalogStore {
  const context = { userId: placed.payload.userId, paymentMethodId: placed.payload.paymentMethodId };
  return {
    transaction: (work) =>
      store.transaction((tx) =>
        work({
          ...tx,
          publish: (events, cause) =>
            tx.publish(
              events.map((event) =>
                event.type === 'StockReserved'
                  ? ({ ...event, payload: { ...event.payload, ...context } } as CatalogEvent)
                  : event,
              ),
              cause,
            ),
        }),
      ),
  };
}

export async function startCatalogSaga(
  runtime: ServiceRuntime,
  prisma: PrismaClient,
  afterCommit: () => void,
): Promise<Subscription> {
  const apply = async (event: DomainEvent, effect: (store: CatalogStore) => Promise<unknown>) => {
    const applied = await processOnce(prisma, CATALOG_SAGA_GROUP, event, (tx) => effect(catalogStoreWithin(tx)));
    if (applied) afterCommit();
  };
  return subscribeSaga(runtime, {
    groupId: CATALOG_SAGA_GROUP,
    topics: [TOPICS.orders, TOPICS.billing],
    handlers: {
      OrderPlaced: (event) =>
        apply(event, (store) =>
          reserveStock(
            withPaymentContext(store, event),
            { orderId: event.payload.orderId, lines: event.payload.lines },
            causeOf(event),
          ),
        ),
      PaymentFailed: (event) => apply(event, (store) => releaseStock(store, { orderId: event.payload.orderId }, causeOf(event))),
      OrderCancelled: (event) => apply(event, (store) => releaseStock(store, { orderId: event.payload.orderId }, causeOf(event))),
      OrderShipped: (event) => apply(event, (store) => commitStock(store, { orderId: event.payload.orderId }, causeOf(event))),
    },
  });
}
