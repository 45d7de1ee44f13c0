/**
 * The orders subgraph's saga metrics on its /metrics:
 * - `orders_saga_outcomes_total{outcome, reason}`: orders leaving PENDING, counted after the transaction
 *   that moved them committed. outcome is confirmed | cancelled; reason is a fixed set derived from who
 *   made the change (never the free-text reason, which would make the label set unbounded).
 * - `orders_pending_oldest_age_seconds`: age of the oldest order still PENDING, read from the database at
 *   scrape time (one indexed query, reused for a few seconds).
 */
import { Counter, Gauge, type Registry } from '@commerce/platform';
import type { StatusChange } from '../../domain/order.ts';
import type { Clock } from '../../ports/clock.ts';
import type { OrdersTransaction, UnitOfWork } from '../../ports/unit-of-work.ts';

export type SagaOutcome = 'confirmed' | 'cancelled';
export const SAGA_OUTCOME_REASONS = [
  'payment_captured',
  'stock_rejected',
  'payment_failed',
  'pending_timeout',
  'customer_cancelled',
  'admin_cancelled',
  'other',
] as const;
export type SagaOutcomeReason = (typeof SAGA_OUTCOME_REASONS)[number];

/** The saga outcome a status change records, or undefined when it is not an order leaving PENDING. */
export function sagaOutcomeOf(change: StatusChange): { outcome: SagaOutcome; reason: SagaOutcomeReason } | undefined {
  if (change.from !== 'PENDING') return undefined;
  if (change.to === 'CONFIRMED') return { outcome: 'confirmed', reason: 'payment_captured' };
  if (change.to !== 'CANCELLED') return undefined;
  const { type, id } = change.actor;
  if (type === 'CUSTOMER') return { outcome: 'cancelled', reason: 'customer_cancelled' };
  if (type === 'ADMIN') return { outcome: 'cancelled', reason: 'admin_cancelled' };
  // The system actors are the services whose events cancel (see saga-consumer.ts, pending-order-sweeper.ts).
  const bySystem: Record<string, SagaOutcomeReason> = {
    catalog: 'stock_rejected',
    billing: 'payment_failed',
    orders: 'pending_timeout',
  };
  return { outcome: 'cancelled', reason: bySystem[id] ?? 'other' };
}

export class SagaOutcomeMetrics {
  private readonly counter: Counter<'outcome' | 'reason'>;

  constructor(registry: Registry) {
    const name = 'orders_saga_outcomes_total';
    this.counter =
      (registry.getSingleMetric(name) as Counter<'outcome' | 'reason'> | undefined) ??
      new Counter({
        name,
        help: 'Orders that left PENDING, by outcome (confirmed, cancelled) and reason',
        labelNames: ['outcome', 'reason'] as const,
        registers: [registry],
      });
  }

  /**
   * Transaction ports that note the status changes stored through them into `changes`; call `record`
   * with them once the transaction committed.
   */
  observe(ports: OrdersTransaction, changes: StatusChange[]): OrdersTransaction {
    const orders = ports.orders;
    return {
      ...ports,
      orders: Object.assign(Object.create(orders) as typeof orders, {
        update: async (...args: Parameters<typeof orders.update>) => {
          await orders.update(...args);
          changes.push(...args[2]);
        },
      }),
    };
  }

  record(changes: readonly StatusChange[]): void {
    for (const change of changes) {
      const outcome = sagaOutcomeOf(change);
      if (outcome) this.counter.inc(outcome);
    }
  }

  /** A unit of work whose committed status changes are counted (a failed or retried attempt counts nothing). */
  counting(unitOfWork: UnitOfWork): UnitOfWork {
    return {
      run: async (work) => {
        let changes: StatusChange[] = [];
        const result = await unitOfWork.run((tx) => {
          changes = []; // this attempt's changes only
          return work(this.observe(tx, changes));
        });
        this.record(changes);
        return result;
      },
    };
  }
}

/** The slice of the orders Prisma client the gauge reads. */
export interface PendingOrdersReader {
  order: {
    findFirst(args: {
      where: { status: 'PENDING' };
      orderBy: { createdAt: 'asc' };
      select: { createdAt: true };
    }): PromiseLike<{ createdAt: Date } | null>;
  };
}

/** Registers `orders_pending_oldest_age_seconds` (0 when no order is PENDING). */
export function registerPendingOrderAge(
  registry: Registry,
  prisma: PendingOrdersReader,
  clock: Clock,
  options: { cacheMs?: number } = {},
): void {
  const name = 'orders_pending_oldest_age_seconds';
  if (registry.getSingleMetric(name)) return;
  const cacheMs = options.cacheMs ?? 5000;
  let oldest: Date | null = null;
  let readAt = -Infinity;
  let pending: Promise<Date | null> | undefined;
  const read = () => {
    if (Date.now() - readAt < cacheMs) return Promise.resolve(oldest);
    // Uses the (status, created_at) index: one index probe however many orders there are.
    pending ??= Promise.resolve(
      prisma.order.findFirst({ where: { status: 'PENDING' }, orderBy: { createdAt: 'asc' }, select: { createdAt: true } }),
    )
      .then((row) => {
        oldest = row?.createdAt ?? null;
        readAt = Date.now();
        return oldest;
      })
      .catch(() => oldest) // database unavailable: report the last known value
      .finally(() => (pending = undefined));
    return pending;
  };
  new Gauge({
    name,
    help: 'Age of the oldest order still PENDING (0 when there is none)',
    registers: [registry],
    async collect() {
      const createdAt = await read();
      // Computed at each scrape from the cached creation time, so the age keeps growing between reads.
      this.set(createdAt ? Math.max(0, (clock.now().getTime() - createdAt.getTime()) / 1000) : 0);
    },
  });
}
