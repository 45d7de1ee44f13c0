/**
 * Reads what `reconcile-rules.ts` checks from the four services' databases (read-only). Each service's
 * tables are read in one REPEATABLE READ transaction, so stock and reservations (or payments and their
 * ledger) are consistent with each other; across services the reads follow the saga's direction
 * (orders, then catalog, then billing), so a step that lands in between makes an order look further
 * along rather than behind.
 */
import pg from 'pg';
import {
  SERVICES,
  type OrderRow,
  type OutboxRow,
  type PaymentRow,
  type ReservationRow,
  type Service,
  type Snapshot,
  type StockRow,
} from './reconcile-rules.ts';

export type DatabaseUrls = Record<Service, string>;

/** CATALOG_DATABASE_URL, USERS_DATABASE_URL, ORDERS_DATABASE_URL and BILLING_DATABASE_URL, as the services read them. */
export function databaseUrlsFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseUrls {
  const missing = SERVICES.filter((service) => !env[`${service.toUpperCase()}_DATABASE_URL`]);
  if (missing.length > 0) {
    throw new Error(`set ${missing.map((service) => `${service.toUpperCase()}_DATABASE_URL`).join(', ')} (PostgreSQL URLs)`);
  }
  return Object.fromEntries(SERVICES.map((service) => [service, env[`${service.toUpperCase()}_DATABASE_URL`]!])) as DatabaseUrls;
}

async function inSnapshot<T>(url: string, read: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const result = await read(client);
    await client.query('COMMIT');
    return result;
  } finally {
    await client.end();
  }
}

async function outbox(client: pg.Client, service: Service): Promise<OutboxRow> {
  const { rows } = await client.query<{ unpublished: number; oldest: Date | null }>(
    'SELECT count(*)::int AS unpublished, min(created_at) AS oldest FROM outbox_events WHERE published_at IS NULL',
  );
  return { service, unpublished: rows[0]!.unpublished, oldestUnpublishedAt: rows[0]!.oldest };
}

interface JsonLine {
  productId?: unknown;
  quantity?: unknown;
}

const jsonLines = (value: unknown) =>
  (Array.isArray(value) ? (value as JsonLine[]) : []).map((line) => ({
    productId: String(line.productId),
    quantity: Number(line.quantity),
  }));

export async function readSnapshot(urls: DatabaseUrls): Promise<Snapshot> {
  const takenAt = new Date();
  const outboxes: OutboxRow[] = [];

  const orders = await inSnapshot(urls.orders, async (client) => {
    const { rows } = await client.query<{
      id: string;
      status: string;
      total_cents: number | null;
      currency: string | null;
      created_at: Date;
      updated_at: Date;
      lines: { productId: string; quantity: number }[] | null;
    }>(
      `SELECT o.id::text AS id, o.status, o.total_cents, o.currency, o.created_at, o.updated_at,
              json_agg(json_build_object('productId', l.product_id, 'quantity', l.quantity)) FILTER (WHERE l.order_id IS NOT NULL) AS lines
         FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id
        GROUP BY o.id`,
    );
    outboxes.push(await outbox(client, 'orders'));
    return rows.map((row): OrderRow => ({
      id: row.id,
      status: row.status,
      totalCents: row.total_cents,
      currency: row.currency,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      lines: row.lines ?? [],
    }));
  });

  const { reservations, stock } = await inSnapshot(urls.catalog, async (client) => {
    const reserved = await client.query<{
      order_id: string;
      status: ReservationRow['status'];
      total_cents: number | null;
      currency: string | null;
      lines: unknown;
    }>('SELECT order_id, status::text AS status, total_cents, currency, lines FROM stock_reservations');
    const levels = await client.query<{ product_id: string; on_hand: number; reserved: number }>(
      'SELECT product_id::text AS product_id, on_hand, reserved FROM stock',
    );
    outboxes.push(await outbox(client, 'catalog'));
    return {
      reservations: reserved.rows.map((row): ReservationRow => ({
        orderId: row.order_id,
        status: row.status,
        totalCents: row.total_cents,
        currency: row.currency,
        lines: jsonLines(row.lines),
      })),
      stock: levels.rows.map((row): StockRow => ({ productId: row.product_id, onHand: row.on_hand, reserved: row.reserved })),
    };
  });

  const payments = await inSnapshot(urls.billing, async (client) => {
    const { rows } = await client.query<{
      id: string;
      order_id: string;
      status: PaymentRow['status'];
      amount_cents: number;
      currency: string;
      captured_cents: number;
      refunded_cents: number;
      ledger_captured: number;
      ledger_refunded: number;
      ledger_charges: number;
    }>(
      `SELECT p.id::text AS id, p.order_id, p.status::text AS status, p.amount_cents, p.currency, p.captured_cents, p.refunded_cents,
              COALESCE(SUM(l.amount_cents) FILTER (WHERE l.kind = 'CHARGE'), 0)::int AS ledger_captured,
              COALESCE(-SUM(l.amount_cents) FILTER (WHERE l.kind = 'REFUND'), 0)::int AS ledger_refunded,
              COUNT(l.id) FILTER (WHERE l.kind = 'CHARGE')::int AS ledger_charges
         FROM payments p LEFT JOIN ledger_entries l ON l.payment_id = p.id
        GROUP BY p.id`,
    );
    outboxes.push(await outbox(client, 'billing'));
    return rows.map((row): PaymentRow => ({
      id: row.id,
      orderId: row.order_id,
      status: row.status,
      amountCents: row.amount_cents,
      currency: row.currency,
      capturedCents: row.captured_cents,
      refundedCents: row.refunded_cents,
      ledgerCapturedCents: row.ledger_captured,
      ledgerRefundedCents: row.ledger_refunded,
      ledgerCharges: row.ledger_charges,
    }));
  });

  outboxes.push(await inSnapshot(urls.users, (client) => outbox(client, 'users')));
  return { takenAt, orders, reservations, stock, payments, outboxes };
}
