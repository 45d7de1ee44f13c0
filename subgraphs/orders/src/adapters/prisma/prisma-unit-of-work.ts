import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { Clock } from '../../ports/clock.ts';
import type { OrdersTransaction, UnitOfWork } from '../../ports/unit-of-work.ts';
import { OutboxOrderEvents } from '../events/outbox-order-events.ts';
import { PrismaCartRepository } from './prisma-cart-repository.ts';
import { PrismaIdempotencyStore } from './prisma-idempotency-store.ts';
import { PrismaOrderRepository, type OrdersDb } from './prisma-order-repository.ts';

export function transactionPorts(tx: OrdersDb, clock: Clock): OrdersTransaction {
  return {
    orders: new PrismaOrderRepository(tx),
    carts: new PrismaCartRepository(tx),
    idempotency: new PrismaIdempotencyStore(tx),
    outbox: new OutboxOrderEvents(tx, clock),
  };
}

/** One Prisma interactive transaction per unit of work (READ COMMITTED; row locks do the serializing). */
export class PrismaUnitOfWork implements UnitOfWork {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock,
  ) {}

  run<T>(work: (tx: OrdersTransaction) => Promise<T>): Promise<T> {
    // maxWait covers bursts (20 checkouts of one key queue for pool connections while the first commits).
    return this.prisma.$transaction((tx) => work(transactionPorts(tx, this.clock)), { maxWait: 10_000, timeout: 15_000 });
  }
}
