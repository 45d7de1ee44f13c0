import { requireViewer, type Viewer } from '@commerce/platform';
import type { Cart } from '../domain/cart.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';

/** Every cart change: lock the viewer's cart, apply the domain rule, store the result. */
export async function changeCart(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock'>,
  viewer: Viewer | null,
  change: (cart: Cart, at: Date) => Cart,
): Promise<Cart> {
  const { userId } = requireViewer(viewer);
  return deps.unitOfWork.run(async (tx) => {
    const current = await tx.carts.lock(userId);
    const next = change(current, deps.clock.now());
    if (next !== current) await tx.carts.save(next);
    return next;
  });
}
