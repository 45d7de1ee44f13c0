import { notFound, requireViewer, type Viewer } from '@commerce/platform';
import { addLine, requireInStock, type Cart } from '../domain/cart.ts';
import { validateProductId, validateQuantity } from '../domain/order-lines.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { changeCart } from './change-cart.ts';

/**
 * `addToCart`: only products the catalog confirms exist and are not archived (else NOT_FOUND), and no more
 * than it has available (else INSUFFICIENT_STOCK with `available`, counting what the cart already holds).
 */
export async function addToCart(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock' | 'catalog'>,
  viewer: Viewer | null,
  input: { productId: string; quantity: number },
): Promise<Cart> {
  requireViewer(viewer);
  const productId = validateProductId(input.productId);
  const quantity = validateQuantity(input.quantity);
  // Asked before the cart is locked: no database lock is held while the catalog answers.
  const product = (await deps.catalog.shoppableProducts([productId])).get(productId);
  if (!product) throw notFound('Product');
  return changeCart(deps, viewer, (cart, at) => {
    const next = addLine(cart, productId, quantity, at);
    requireInStock(next, product);
    return next;
  });
}
