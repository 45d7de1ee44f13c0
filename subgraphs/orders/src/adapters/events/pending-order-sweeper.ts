/**
 * Stuck orders: an order still PENDING `timeoutMs` after it was placed (an event lost to a bug, a
 * consumer parked on its DLQ, a service down for long) is cancelled with compensation: its
 * OrderCancelled makes the catalog release whatever it reserved, and a payment captured later is
 * refunded (see saga-consumer.ts). No order stays PENDING forever.
 */
import type { Logger } from '@commerce/platform';
import type { PrismaClient } from '../../generated/prisma/client.ts';
import { cancel, systemActor } from '../../domain/order.ts';
import { changeOrderStatus } from '../../application/change-order-status.ts';
import type { OrdersDependencies } from '../../ports/orders-dependencies.ts';

export interface PendingOrderSweeperOptions {
  /** How long an order may stay PENDING (ORDER_PENDING_TIMEOUT_MS). */
  timeoutMs: number;
  /** How often to look (default: a quarter of the timeout, between 1 s and 30 s). */
  intervalMs?: number;
  /** Orders cancelled per round at most. */
  batchSize?: number;
  logger: Logger;
  afterCancel?: () => void;
}

export class PendingOrderSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock'>,
    private readonly options: PendingOrderSweeperOptions,
  ) {}

  start(): this {
    const interval = this.options.intervalMs ?? Math.min(30_000, Math.max(1_000, Math.floor(this.options.timeoutMs / 4)));
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((error: unknown) => this.options.logger.warn({ err: (error as Error).message }, 'pending order sweep failed'))
        .finally(() => (this.running = undefined));
    }, interval);
    this.timer.unref();
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Cancels the orders PENDING for longer than the timeout; returns their ids. */
  async sweep(): Promise<string[]> {
    const cutoff = new Date(this.deps.clock.now().getTime() - this.options.timeoutMs);
    const stuck = await this.prisma.order.findMany({
      where: { status: 'PENDING', createdAt: { lt: cutoff } },
      select: { id: true },
      orderBy: { createdAt: 'asc' },
      take: this.options.batchSize ?? 100,
    });
    const cancelled: string[] = [];
    for (const { id } of stuck) {
      const reason = `No answer from the saga within ${this.options.timeoutMs} ms`;
      // Decided under the order's lock: an order confirmed since the query above is left alone.
      const order = await changeOrderStatus(this.deps, id, (current) =>
        current.status === 'PENDING'
          ? cancel(current, { reason, actor: systemActor('orders'), at: this.deps.clock.now() })
          : { order: current, change: null },
      ).catch((error: unknown) => {
        this.options.logger.warn({ orderId: id, err: (error as Error).message }, 'could not cancel a stuck order');
        return null;
      });
      if (order?.status === 'CANCELLED' && order.history.at(-1)?.actor.id === 'orders') cancelled.push(id);
    }
    if (cancelled.length > 0) {
      this.options.logger.warn({ orders: cancelled, timeoutMs: this.options.timeoutMs }, 'stuck PENDING orders cancelled');
      this.options.afterCancel?.();
    }
    return cancelled;
  }
}
