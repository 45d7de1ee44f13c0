import type { Cart } from '../../domain/cart.ts';
import type { CartRepository } from '../../ports/cart-repository.ts';
import type { OrdersDb } from './prisma-order-repository.ts';

export class PrismaCartRepository implements CartRepository {
  constructor(private readonly db: OrdersDb) {}

  async find(userId: string): Promise<Cart> {
    const row = await this.db.cart.findUnique({
      where: { userId },
      include: { lines: { orderBy: [{ addedAt: 'asc' }, { productId: 'asc' }] } },
    });
    return {
      userId,
      lines: (row?.lines ?? []).map((line) => ({ productId: line.productId, quantity: line.quantity, addedAt: line.addedAt })),
      updatedAt: row?.updatedAt ?? null,
    };
  }

  async lock(userId: string): Promise<Cart> {
    // The cart row is the lock: create it if needed (a concurrent creator makes this wait), then lock it.
    await this.db.$executeRaw`
      INSERT INTO carts (user_id, created_at, updated_at) VALUES (${userId}, now(), now())
      ON CONFLICT (user_id) DO NOTHING`;
    await this.db.$queryRaw`SELECT user_id FROM carts WHERE user_id = ${userId} FOR UPDATE`;
    return this.find(userId);
  }

  async save(cart: Cart): Promise<void> {
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
