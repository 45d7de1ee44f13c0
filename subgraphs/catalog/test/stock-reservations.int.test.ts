/**
 * Stock reservations under real concurrency on PostgreSQL: no oversell, no deadlock, one effect per
 * order id, and the database itself refusing negative stock.
 */
import { randomUUID } from 'node:crypto';
import { DomainError, type Viewer } from '@commerce/platform';
import { createServiceRuntime, type ServiceRuntime } from '@commerce/runtime';
import { createTestDatabase, describeWithServers, testJwtEnv, type TestDatabase } from '@commerce/testkit';
import { PrismaClient } from '../src/generated/prisma/client.ts';
import { PrismaCatalogStore } from '../src/adapters/prisma/prisma-catalog-store.ts';
import { adjustStock } from '../src/application/adjust-stock.ts';
import { createStockReservations } from '../src/main.ts';
import type { StockReservations } from '../src/ports/stock-reservations.ts';

const admin: Viewer = { userId: 'admin-1', role: 'ADMIN' };

describeWithServers(['TEST_DATABASE_URL'], 'stock reservations on real PostgreSQL', () => {
  let database: TestDatabase;
  let runtime: ServiceRuntime;
  let prisma: PrismaClient;
  let store: PrismaCatalogStore;
  let reservations: StockReservations;

  beforeAll(async () => {
    database = await createTestDatabase('catalog_stock');
    runtime = await createServiceRuntime('catalog', {
      env: { ...testJwtEnv(), NODE_ENV: 'test', LOG_LEVEL: 'silent', CATALOG_DATABASE_URL: database.url },
    });
    prisma = new PrismaClient({ adapter: runtime.database.adapter });
    store = new PrismaCatalogStore(prisma);
    reservations = createStockReservations(store);
  }, 60_000);

  afterAll(async () => {
    await prisma?.$disconnect();
    await runtime?.close();
    await database?.drop();
  });

  async function product(onHand: number, priceCents = 1999): Promise<string> {
    const id = randomUUID();
    await prisma.product.create({
      data: {
        id,
        sku: `SKU-${id.slice(0, 8)}`,
        slug: `p-${id}`,
        name: `Product ${id.slice(0, 8)}`,
        priceCents,
        stock: { create: { onHand } },
      },
    });
    return id;
  }

  const stockOf = (productId: string) =>
    prisma.stock.findUniqueOrThrow({ where: { productId }, select: { onHand: true, reserved: true } });

  /** Samples the stock row while `work` runs: every committed state must satisfy the invariant. */
  async function watchStock<T>(
    productIds: string[],
    work: () => Promise<T>,
  ): Promise<{ result: T; samples: { onHand: number; reserved: number }[] }> {
    const samples: { onHand: number; reserved: number }[] = [];
    let done = false;
    const watcher = (async () => {
      while (!done) {
        samples.push(
          ...(await prisma.stock.findMany({
            where: { productId: { in: productIds } },
            select: { onHand: true, reserved: true },
          })),
        );
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    try {
      return { result: await work(), samples };
    } finally {
      done = true;
      await watcher;
    }
  }

  it('50 concurrent orders for the last 10 units: exactly 10 are reserved, the stock never goes negative', async () => {
    const productId = await product(10);
    const { result: outcomes, samples } = await watchStock([productId], () =>
      Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          reservations.reserve({ orderId: `race-${index}`, lines: [{ productId, quantity: 1 }] }),
        ),
      ),
    );
    const reserved = outcomes.filter((outcome) => outcome.status === 'RESERVED');
    const rejected = outcomes.filter((outcome) => outcome.status === 'REJECTED');
    expect(reserved).toHaveLength(10);
    expect(rejected).toHaveLength(40);
    expect(rejected.every((outcome) => outcome.status === 'REJECTED' && outcome.rejection.reason === 'INSUFFICIENT_STOCK')).toBe(
      true,
    );
    expect(await stockOf(productId)).toEqual({ onHand: 10, reserved: 10 });
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.every((sample) => sample.reserved >= 0 && sample.reserved <= sample.onHand)).toBe(true);

    expect(await prisma.stockReservation.count({ where: { orderId: { startsWith: 'race-' }, status: 'RESERVED' } })).toBe(10);
    const events = await prisma.outboxEvent.groupBy({
      by: ['type'],
      where: { aggregateId: { startsWith: 'race-' } },
      _count: true,
    });
    expect(Object.fromEntries(events.map((group) => [group.type, group._count]))).toEqual({
      StockReserved: 10,
      StockRejected: 40,
    });
  });

  it('orders naming the same products in opposite orders never deadlock and never oversell', async () => {
    const a = await product(15);
    const b = await product(15);
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        reservations.reserve({
          orderId: `crossed-${index}`,
          lines:
            index % 2 === 0
              ? [
                  { productId: a, quantity: 1 },
                  { productId: b, quantity: 1 },
                ]
              : [
                  { productId: b, quantity: 1 },
                  { productId: a, quantity: 1 },
                ],
        }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'RESERVED')).toHaveLength(15);
    expect(await stockOf(a)).toEqual({ onHand: 15, reserved: 15 });
    expect(await stockOf(b)).toEqual({ onHand: 15, reserved: 15 });
  });

  it('the same order delivered 10 times at once is reserved once and answered the same every time', async () => {
    const productId = await product(100, 250);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => reservations.reserve({ orderId: 'duplicate-order', lines: [{ productId, quantity: 3 }] })),
    );
    expect(outcomes.filter((outcome) => !outcome.replayed)).toHaveLength(1);
    const { replayed: _replayed, ...first } = outcomes[0]!;
    expect(outcomes.map(({ replayed: _r, ...rest }) => rest)).toEqual(Array(10).fill(first));
    expect(first).toMatchObject({ status: 'RESERVED', total: { amountCents: 750, currency: 'USD' } });
    expect(await stockOf(productId)).toEqual({ onHand: 100, reserved: 3 });
    expect(await prisma.outboxEvent.count({ where: { aggregateId: 'duplicate-order' } })).toBe(1);

    const releases = await Promise.all(Array.from({ length: 5 }, () => reservations.release('duplicate-order')));
    expect(releases.filter((release) => release.released)).toHaveLength(1);
    expect(await stockOf(productId)).toEqual({ onHand: 100, reserved: 0 });
  });

  it('admin removals racing with reservations never take stock below what is reserved', async () => {
    const productId = await product(20);
    const work = [
      ...Array.from(
        { length: 20 },
        (_, index) => () => reservations.reserve({ orderId: `mixed-${index}`, lines: [{ productId, quantity: 1 }] }),
      ),
      ...Array.from({ length: 20 }, () => () => adjustStock(store, admin, { productId, delta: -1, reason: 'breakage' })),
    ];
    const results = await Promise.allSettled(work.map((run) => run()));
    const reserved = results
      .slice(0, 20)
      .filter((r) => r.status === 'fulfilled' && r.value && 'status' in r.value && r.value.status === 'RESERVED').length;
    const removed = results.slice(20).filter((r) => r.status === 'fulfilled').length;
    const refusedRemovals = results.slice(20).filter((r) => r.status === 'rejected');
    expect(
      refusedRemovals.every(
        (r) => r.status === 'rejected' && r.reason instanceof DomainError && r.reason.code === 'INSUFFICIENT_STOCK',
      ),
    ).toBe(true);
    expect(reserved + removed).toBe(20); // every unit went one way or the other, none twice
    expect(await stockOf(productId)).toEqual({ onHand: 20 - removed, reserved });
  });

  it('commits shipped orders once, even when the shipment is reported twice at once', async () => {
    const productId = await product(5);
    await reservations.reserve({ orderId: 'shipped-order', lines: [{ productId, quantity: 2 }] });
    const commits = await Promise.all([reservations.commit('shipped-order'), reservations.commit('shipped-order')]);
    expect(commits.filter((commit) => commit.committed)).toHaveLength(1);
    expect(await stockOf(productId)).toEqual({ onHand: 3, reserved: 0 });
  });

  it('the database refuses negative or over-reserved stock even if code tried', async () => {
    const productId = await product(2);
    await expect(prisma.$executeRaw`UPDATE stock SET on_hand = -1 WHERE product_id = ${productId}::uuid`).rejects.toThrow(
      /stock_on_hand_not_negative/,
    );
    await expect(prisma.$executeRaw`UPDATE stock SET reserved = 3 WHERE product_id = ${productId}::uuid`).rejects.toThrow(
      /stock_reserved_within_on_hand/,
    );
    await expect(prisma.$executeRaw`UPDATE products SET price_cents = -5 WHERE id = ${productId}::uuid`).rejects.toThrow(
      /products_price_not_negative/,
    );
    expect(await stockOf(productId)).toEqual({ onHand: 2, reserved: 0 });
  });
});
