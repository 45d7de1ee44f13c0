import type { IdempotencyRecord, IdempotencyStore } from '../../ports/idempotency-store.ts';
import type { OrdersDb } from './prisma-order-repository.ts';

export class PrismaIdempotencyStore implements IdempotencyStore {
  constructor(private readonly db: OrdersDb) {}

  async deleteExpired(userId: string, now: Date): Promise<void> {
    await this.db.idempotencyKey.deleteMany({ where: { userId, expiresAt: { lte: now } } });
  }

  async claim(record: IdempotencyRecord): Promise<boolean> {
    // INSERT … ON CONFLICT DO NOTHING: waits for an in-flight insert of the same (user_id, key) to commit
    // or roll back, then inserts (0 → taken, 1 → ours). No error aborts the surrounding transaction.
    const { count } = await this.db.idempotencyKey.createMany({ data: [record], skipDuplicates: true });
    return count === 1;
  }

  async find(userId: string, key: string): Promise<IdempotencyRecord | null> {
    const row = await this.db.idempotencyKey.findUnique({ where: { userId_key: { userId, key } } });
    if (!row) return null;
    return { ...row, status: row.status === 'COMPLETED' ? 'COMPLETED' : 'IN_PROGRESS' };
  }

  async complete(userId: string, key: string, fingerprint: string, orderId: string): Promise<void> {
    await this.db.idempotencyKey.update({
      where: { userId_key: { userId, key } },
      data: { status: 'COMPLETED', fingerprint, orderId },
    });
  }
}
