import type { Cart } from '../../domain/cart.ts';
import type { CartRepository } from '../../ports/cart-repository.ts';
import type { OrdersDb } from './prisma-order-repository.ts';

export class PrismaCartRepository implements CartRepository {
  /**
   * Carts this transaction has locked, as read under the lock: checkout locks the cart to read its lines
   * and again to empty it; nobody else can change it in between. `save` forgets the entry.
   */
  private readonly locked = new Map<string, Cart>();

  constructor(private readonly db: OrdersDb) {}

  async find(userId: string): Promise<Cart> {
    // The cart and its lines in one statement (no row: no cart yet; a row without a product: no lines).
    const rows = await this.db.$queryRaw<
      { updatedAt: Date; productId: string | null; quantity: number | null; addedAt: Date | null }[]
    >`
      SELECT c.updated_at AS "updatedAt", l.product_id AS "productId", l.quantity, l.added_at AS "addedAt"
        FROM carts c LEFT JOIN cart_lines l ON l.user_id = c.user_id
       WHERE c.user_id = ${userId}
       ORDER BY l.added_at ASC, l.product_id ASC`;
    return {
      userId,
      lines: rows.flatMap(({ productId, quantity, addedAt }) =>
        productId !== null && quantity !== null && addedAt !== null ? [{ productId, quantity, addedAt }] : [],
      ),
      updatedAt: rows[0]?.updatedAt ?? null,
    };
  }

  async lock(userId: string): Promise<Cart> {
    const remembered = this.locked.get(userId);
    if (remembered) return remembered;
    // The cart row is the lock: create it if needed (a concurrent creator makes this wait), then lock it.
    await this.db.$executeRaw`
      INSERT INTO carts (user_id, created_at, updated_at) VALUES (${userId}, now(), now())
      ON CONFLICT (user_id) DO NOTHING`;
    await this.db.$queryRaw`SELECT user_id FROM carts WHERE user_id = ${userId} FOR UPDATE`;
    const cart = await this.find(userId);
    this.locked.set(userId, cart);
    return cart;
  }

  async save(cart: Cart): Promise<void> {
    this.locked.delete(cart.userId);
    const updatedAt = cart.updatedAt ?? new Date();
    await this.db.cart.upsert({
      where: { userId: cart.userId },
      create: { userId: cart.userId, updatedAt },
      update: { updatedAt },
    });
    await this.db.cartLine.deleteMany({ where: { userId: cart.userId } });
    if (cart.lines.length > 0) {
      await this.db.cartLine.createMany({
        data: cart.lines.map((line) => ({
          userId: cart.userId,
          productId: line.productId,
          quantity: line.quantity,
          addedAt: line.addedAt,
        })),
      });
    }
  }
}
