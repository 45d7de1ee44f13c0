import { requireViewer, type Viewer } from '@commerce/platform';
import type { Cart } from '../domain/cart.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';

/** `cart`: the viewer's own cart; there is no way to name anyone else's. */
export async function viewCart(deps: Pick<OrdersDependencies, 'carts'>, viewer: Viewer | null): Promise<Cart> {
  return deps.carts.find(requireViewer(viewer).userId);
}
