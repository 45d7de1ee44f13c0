import { Prisma } from '../../generated/prisma/client.ts';
import type { Cart } from '../../domain/cart.ts';
import type { CartRepository } from '../../ports/cart-repository.ts';
import type { OrdersDb } from './prisma-order-repository.ts';

const { sql, join, empty } = Prisma;

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
    // The cart row is the lock. Usually it exists: one statement. Otherwise create it (a concurrent creator
    // makes this wait) and lock it then.
    const locked = await this.db.$queryRaw<unknown[]>`SELECT 1 FROM carts WHERE user_id = ${userId} FOR UPDATE`;
    if (locked.length === 0) {
      await this.db.$executeRaw`
        INSERT INTO carts (user_id, created_at, updated_at) VALUES (${userId}, now(), now())
        ON CONFLICT (user_id) DO NOTHING`;
      await this.db.$queryRaw`SELECT 1 FROM carts WHERE user_id = ${userId} FOR UPDATE`;
    }
    // A statement of its own, so it reads what the previous holder of the lock committed.
    const cart = await this.find(userId);
    this.locked.set(userId, cart);
    return cart;
  }

  async save(cart: Cart): Promise<void> {
    this.locked.delete(cart.userId);
    const updatedAt = cart.updatedAt ?? new Date();
    // One statement: the cart row, its lines as they are now (upserted), and the lines no longer in it
    // (deleted). The two never touch the same line, so their order inside the statement does not matter.
    const lines = cart.lines.map((line) => sql`(${line.productId}, ${line.quantity}::int, ${line.addedAt}::timestamptz)`);
    const kept = cart.lines.map((line) => line.productId);
    await this.db.$executeRaw(sql`
      WITH cart AS (
        INSERT INTO carts (user_id, created_at, updated_at) VALUES (${cart.userId}, now(), ${updatedAt}::timestamptz)
        ON CONFLICT (user_id) DO UPDATE SET updated_at = EXCLUDED.updated_at
      ), removed AS (
        DELETE FROM cart_lines
         WHERE user_id = ${cart.userId}${kept.length > 0 ? sql` AND product_id NOT IN (${join(kept)})` : empty}
      )${
        lines.length > 0
          ? sql`
      INSERT INTO cart_lines (user_id, product_id, quantity, added_at)
      SELECT ${cart.userId}, v.product_id, v.quantity, v.added_at
        FROM (VALUES ${join(lines)}) AS v(product_id, quantity, added_at)
      ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity, added_at = EXCLUDED.added_at`
          : sql`
      SELECT 1`
      }`);
  }
}
