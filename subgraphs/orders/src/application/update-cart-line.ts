import type { Viewer } from '@commerce/platform';
import { setLineQuantity, type Cart } from '../domain/cart.ts';
import { validateProductId, validateQuantity } from '../domain/order-lines.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { changeCart } from './change-cart.ts';

/** `updateCartLine`: sets the quantity of a product already in the cart (1..99). */
export async function updateCartLine(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock'>,
  viewer: Viewer | null,
  input: { productId: string; quantity: number },
): Promise<Cart> {
  const productId = validateProductId(input.productId);
  const quantity = validateQuantity(input.quantity);
  return changeCart(deps, viewer, (cart, at) => setLineQuantity(cart, productId, quantity, at));
}
