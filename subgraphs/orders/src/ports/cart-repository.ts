import type { Cart } from '../domain/cart.ts';

export interface CartRepository {
  /** The user's cart (an empty one if they never had one). */
  find(userId: string): Promise<Cart>;
  /**
   * The user's cart, locked until the transaction ends, so concurrent changes and checkouts of one cart
   * happen one after another. Only meaningful inside a unit of work.
   */
  lock(userId: string): Promise<Cart>;
  /** Stores the cart's lines as they are now. */
  save(cart: Cart): Promise<void>;
}
