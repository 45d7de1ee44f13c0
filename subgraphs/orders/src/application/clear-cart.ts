import type { Viewer } from '@commerce/platform';
import { clearLines, type Cart } from '../domain/cart.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import { changeCart } from './change-cart.ts';

/** `clearCart`: empties the viewer's cart. */
export async function clearCart(deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock'>, viewer: Viewer | null): Promise<Cart> {
  return changeCart(deps, viewer, clearLines);
}
