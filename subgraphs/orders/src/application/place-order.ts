import { notFound, requireViewer, type Viewer } from '@commerce/platform';
import { validateRequestedLines, type RequestedLine } from '../domain/order-lines.ts';
import type { Order } from '../domain/order.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { buyersAddress, isLiveKey, placeOrderIdempotently, type PlacementInput } from './idempotent-placement.ts';
import { validateIdempotencyKey } from './validation.ts';

/**
 * `placeOrder`: for clients that keep their own cart (mobile). The lines are checked like cart lines
 * (quantities 1..99, each product once, products that exist and are not archived), then ordered with
 * the same idempotency and transaction guarantees as checkout.
 */
export async function placeOrder(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock' | 'ids' | 'catalog' | 'addresses'>,
  viewer: Viewer | null,
  input: PlacementInput & { lines: readonly RequestedLine[] },
): Promise<Order> {
  const buyer = requireViewer(viewer);
  const lines = validateRequestedLines(input.lines);
  // Asked before the transaction, so no lock is held while the catalog and users answer. A retry skips
  // both: it must get its order back even if a product was archived or the address removed meanwhile.
  let address = null;
  if (!(await isLiveKey(deps, buyer.userId, validateIdempotencyKey(input.idempotencyKey)))) {
    address = await buyersAddress(deps, buyer, input);
    await requireAvailable(deps, lines);
  }
  return placeOrderIdempotently(
    deps,
    buyer,
    input,
    {
      operation: 'placeOrder',
      read: async () => lines,
      validate: () => {},
      linesOfRetry: (current) => current,
    },
    address,
  );
}

async function requireAvailable(deps: Pick<OrdersDependencies, 'catalog'>, lines: RequestedLine[]): Promise<void> {
  const available = await deps.catalog.shoppableProducts(lines.map((line) => line.productId));
  const missing = lines.find((line) => !available.has(line.productId));
  if (missing) throw notFound(`Product ${missing.productId}`);
}
