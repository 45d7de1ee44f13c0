import type { CartRepository } from './cart-repository.ts';
import type { IdempotencyStore } from './idempotency-store.ts';
import type { OrderEventOutbox } from './order-event-outbox.ts';
import type { OrderRepository } from './order-repository.ts';

/** Everything one transaction may touch. */
export interface OrdersTransaction {
  orders: OrderRepository;
  carts: CartRepository;
  idempotency: IdempotencyStore;
  outbox: OrderEventOutbox;
}

/** Runs `work` in one database transaction: all of its writes commit together or not at all. */
export interface UnitOfWork {
  run<T>(work: (tx: OrdersTransaction) => Promise<T>): Promise<T>;
}
