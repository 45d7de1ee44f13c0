import { notFound } from '@commerce/platform';
import { applyPrices, type Order, type PricedLine } from '../domain/order.ts';
import type { Money } from '../domain/money.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { isUuid } from './validation.ts';

/**
 * The catalog reserved the stock and priced the lines (StockReserved): the order's prices and totals
 * come from here and nowhere else. The status stays PENDING until the payment is captured. The same
 * prices delivered again change nothing.
 */
export async function markStockReserved(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock'>,
  input: { orderId: string; pricedLines: readonly PricedLine[]; total: Money },
): Promise<Order> {
  if (!isUuid(input.orderId)) throw notFound('Order');
  return deps.unitOfWork.run(async (tx) => {
    const current = await tx.orders.lock(input.orderId);
    if (!current) throw notFound('Order');
    const { order, changed } = applyPrices(current, input.pricedLines, input.total, deps.clock.now());
    if (changed) await tx.orders.updatePrices(order, current.version);
    return order;
  });
}
