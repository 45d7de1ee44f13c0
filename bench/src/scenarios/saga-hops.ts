/**
 * Where an order's checkout → CONFIRMED time goes on Kafka + PostgreSQL, hop by hop, read from the
 * services' own databases after the load: each outbox row's `created_at` (the writing transaction's
 * start) and `published_at` (the start of the relay's round that claimed it; the broker's ack comes
 * later in that round), and each inbox row's `processed_at` (the start of the consuming transaction).
 * Timestamps have millisecond precision and come from one PostgreSQL server, so hops are comparable.
 */
import pg from 'pg';
import { percentile } from '../load/load-spec.ts';

export interface HopLatency {
  hop: string;
  p50: number;
  p95: number;
  p99: number;
}

/** One outbox row: the order it is about, the event id, when it was written and claimed (epoch ms). */
export interface OutboxTimes {
  orderId: string;
  eventId: string;
  createdAt: number;
  publishedAt: number | null;
}

export interface SagaTimestamps {
  orderPlaced: OutboxTimes[];
  stockReserved: OutboxTimes[];
  paymentCaptured: OutboxTimes[];
  /** Inbox rows by event id: when catalog, billing and orders started the transaction that consumed it. */
  catalogProcessed: Map<string, number>;
  ordersProcessed: Map<string, number>;
}

export const HOPS = [
  'orders: OrderPlaced written → claimed by the relay',
  'claimed → catalog reserving (publish, broker, fetch, queue)',
  'catalog: StockReserved written → claimed by the relay',
  'claimed → billing wrote PaymentCaptured (publish, broker, fetch, charge)',
  'billing: PaymentCaptured written → claimed by the relay',
  'claimed → orders confirming (publish, broker, fetch, queue)',
  'total: OrderPlaced written → orders confirming',
] as const;

/**
 * Per-hop percentiles over the orders whose whole chain is in the timestamps (the others are left out),
 * and only over `orderIds` when given (the measured orders, not the probe or the warm-up).
 */
export function hopLatencies(times: SagaTimestamps, orderIds?: ReadonlySet<string>): HopLatency[] {
  const byOrder = (rows: OutboxTimes[]) => new Map(rows.map((row) => [row.orderId, row]));
  const reserved = byOrder(times.stockReserved);
  const captured = byOrder(times.paymentCaptured);
  const samples: number[][] = HOPS.map(() => []);
  for (const placed of times.orderPlaced) {
    if (orderIds && !orderIds.has(placed.orderId)) continue;
    const reservation = reserved.get(placed.orderId);
    const capture = captured.get(placed.orderId);
    const reserving = times.catalogProcessed.get(placed.eventId);
    const confirming = capture && times.ordersProcessed.get(capture.eventId);
    if (!reservation || !capture || reserving === undefined || confirming === undefined) continue;
    if (placed.publishedAt === null || reservation.publishedAt === null || capture.publishedAt === null) continue;
    const hops = [
      placed.publishedAt - placed.createdAt,
      reserving - placed.publishedAt,
      reservation.publishedAt - reservation.createdAt,
      capture.createdAt - reservation.publishedAt,
      capture.publishedAt - capture.createdAt,
      confirming - capture.publishedAt,
      confirming - placed.createdAt,
    ];
    hops.forEach((ms, index) => samples[index]!.push(ms));
  }
  return HOPS.map((hop, index) => {
    const sorted = samples[index]!.sort((a, b) => a - b);
    return { hop, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
  });
}

/** Reads the timestamps from the orders, catalog and billing databases (their `<SERVICE>_DATABASE_URL`). */
export async function readSagaTimestamps(env: Record<string, string | undefined>): Promise<SagaTimestamps | undefined> {
  const urls = { orders: env.ORDERS_DATABASE_URL, catalog: env.CATALOG_DATABASE_URL, billing: env.BILLING_DATABASE_URL };
  if (!Object.values(urls).every((url) => url?.startsWith('postgres'))) return undefined;
  const query = async <Row extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<Row[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<Row>(sql, values)).rows;
    } finally {
      await client.end();
    }
  };
  const outbox = async (url: string, type: string): Promise<OutboxTimes[]> =>
    (
      await query<{ order_id: string; id: string; created: string; published: string | null }>(
        url,
        `SELECT envelope->'payload'->>'orderId' AS order_id, id::text AS id,
                (extract(epoch FROM created_at) * 1000)::float8::text AS created,
                (extract(epoch FROM published_at) * 1000)::float8::text AS published
           FROM outbox_events WHERE type = $1`,
        [type],
      )
    ).map((row) => ({
      orderId: row.order_id,
      eventId: row.id,
      createdAt: Number(row.created),
      publishedAt: row.published === null ? null : Number(row.published),
    }));
  const inbox = async (url: string): Promise<Map<string, number>> =>
    new Map(
      (
        await query<{ id: string; at: string }>(
          url,
          'SELECT event_id::text AS id, (extract(epoch FROM processed_at) * 1000)::float8::text AS at FROM processed_events',
        )
      ).map((row) => [row.id, Number(row.at)]),
    );
  const [orderPlaced, stockReserved, paymentCaptured, catalogProcessed, ordersProcessed] = await Promise.all([
    outbox(urls.orders!, 'OrderPlaced'),
    outbox(urls.catalog!, 'StockReserved'),
    outbox(urls.billing!, 'PaymentCaptured'),
    inbox(urls.catalog!),
    inbox(urls.orders!),
  ]);
  return { orderPlaced, stockReserved, paymentCaptured, catalogProcessed, ordersProcessed };
}
