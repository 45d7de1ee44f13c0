import type { IdempotencyRecord, IdempotencyStore } from '../../ports/idempotency-store.ts';
import type { OrdersDb } from './prisma-order-repository.ts';

export class PrismaIdempotencyStore implements IdempotencyStore {
  constructor(private readonly db: OrdersDb) {}

  async claim(record: IdempotencyRecord, now: Date): Promise<boolean> {
    // One statement. INSERT … ON CONFLICT waits for an in-flight insert of the same (user_id, key) to commit
    // or roll back; a record of the key that expired by now is taken over (it starts a new request), a live
    // one is left alone (no row back: taken). No error aborts the surrounding transaction. The user's other
    // expired keys are forgotten in passing, so the table stays small.
    const claimed = await this.db.$queryRaw<unknown[]>`
      WITH forgotten AS (
        DELETE FROM idempotency_keys WHERE user_id = ${record.userId} AND expires_at <= ${now}::timestamptz AND key <> ${record.key}
      )
      INSERT INTO idempotency_keys (user_id, key, operation, fingerprint, status, order_id, created_at, expires_at)
      VALUES (${record.userId}, ${record.key}, ${record.operation}, ${record.fingerprint}, ${record.status},
              ${record.orderId}::uuid, ${record.createdAt}::timestamptz, ${record.expiresAt}::timestamptz)
      ON CONFLICT (user_id, key) DO UPDATE
        SET operation = EXCLUDED.operation, fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status,
            order_id = EXCLUDED.order_id, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
        WHERE idempotency_keys.expires_at <= ${now}::timestamptz
      RETURNING 1`;
    return claimed.length === 1;
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
