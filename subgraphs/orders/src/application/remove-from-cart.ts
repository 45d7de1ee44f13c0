import type { Viewer } from '@commerce/platform';
import { removeLine, type Cart } from '../domain/cart.ts';
import { validateProductId } from '../domain/order-lines.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { changeCart } from './change-cart.ts';

/** `removeFromCart`: removing a product that is not in the cart changes nothing. */
export async function removeFromCart(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock'>,
  viewer: Viewer | null,
  input: { productId: string },
): Promise<Cart> {
  const productId = validateProductId(input.productId);
  return changeCart(deps, viewer, (cart, at) => removeLine(cart, productId, at));
}
