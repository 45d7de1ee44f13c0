import { badInput, requireViewer, type Viewer } from '@commerce/platform';
import { clearLines, requestedLines } from '../domain/cart.ts';
import type { Order } from '../domain/order.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import {
  buyersAddress,
  isLiveKey,
  placeOrderIdempotently,
  type LineSource,
  type PlacementInput,
} from './idempotent-placement.ts';
import { validateIdempotencyKey } from './validation.ts';

/**
 * The cart is locked first and stays locked until commit, so two checkouts of one cart cannot both order it
 * (a duplicate with the same key waits here, then finds the emptied cart and the key's record).
 */
const fromCart: LineSource = {
  operation: 'checkout',
  read: async (tx, userId) => requestedLines(await tx.carts.lock(userId)),
  validate(lines) {
    if (lines.length === 0) throw badInput('cart', 'The cart is empty');
  },
  // A successful checkout leaves the cart empty: a retry then matches on the order's own lines.
  linesOfRetry: (current, order) => (current.length > 0 ? current : order.lines),
  async afterPlaced(tx, userId, at) {
    await tx.carts.save(clearLines(await tx.carts.lock(userId), at));
  },
};

/**
 * `checkout`: turns the viewer's cart into a PENDING order, writes OrderPlaced to the outbox and empties
 * the cart, in one transaction, with a snapshot of one of the buyer's own addresses. Prices are not taken
 * from anywhere here: the catalog prices the order when it reserves the stock.
 */
export async function checkout(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock' | 'ids' | 'addresses'>,
  viewer: Viewer | null,
  input: PlacementInput,
): Promise<Order> {
  const buyer = requireViewer(viewer);
  // A retry gets its order back even if the address was edited or removed since.
  const retry = await isLiveKey(deps, buyer.userId, validateIdempotencyKey(input.idempotencyKey));
  const address = retry ? null : await buyersAddress(deps, buyer, input);
  return placeOrderIdempotently(deps, buyer, input, fromCart, address);
}
