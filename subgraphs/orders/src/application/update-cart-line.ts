import { notFound, requireViewer, type Viewer } from '@commerce/platform';
import { requireInStock, setLineQuantity, type Cart } from '../domain/cart.ts';
import { validateProductId, validateQuantity } from '../domain/order-lines.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { changeCart } from './change-cart.ts';

/**
 * `updateCartLine`: sets the quantity of a product already in the cart (1..99), no more than the catalog
 * has available (INSUFFICIENT_STOCK with `available`); a product archived meanwhile is NOT_FOUND.
 */
export async function updateCartLine(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock' | 'catalog'>,
  viewer: Viewer | null,
  input: { productId: string; quantity: number },
): Promise<Cart> {
  requireViewer(viewer);
  const productId = validateProductId(input.productId);
  const quantity = validateQuantity(input.quantity);
  // Asked before the cart is locked, as in addToCart.
  const product = (await deps.catalog.shoppableProducts([productId])).get(productId);
  if (!product) throw notFound('Product');
  return changeCart(deps, viewer, (cart, at) => {
    const next = setLineQuantity(cart, productId, quantity, at);
    requireInStock(next, product);
    return next;
  });
}
