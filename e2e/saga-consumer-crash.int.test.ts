/**
 * A consumer killed after its database commit but before its offset commit: Kafka delivers the event
 * again to the group's next consumer, and the inbox makes the second delivery a no-op (one reservation,
 * one StockReserved).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import pg from 'pg';
import { createEvent } from '@commerce/events';
import { createServiceRuntime, loadSubgraphModule, REPO_ROOT } from '@commerce/runtime';
import { createLogger, type RunningServer } from '@commerce/platform';
import { createTestDatabase, describeWithServers, testJwtEnv, type TestDatabase } from '@commerce/testkit';
import { KafkaProbe } from './kafka-probe.ts';

jest.setTimeout(180_000);

const run = promisify(execFile);

describeWithServers(
  ['TEST_KAFKA_BROKERS', 'TEST_DATABASE_URL'],
  'saga consumer killed between DB commit and offset commit',
  () => {
    const prefix = `e2e-${randomUUID().slice(0, 8)}.`;
    let database: TestDatabase;
    let db: pg.Client;
    let catalog: RunningServer | undefined;
    let probe: KafkaProbe;
    const env = () => ({
      ...process.env,
      ...testJwtEnv(),
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      CATALOG_PORT: '0',
      CATALOG_DATABASE_URL: database.url,
      KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!,
      KAFKA_TOPIC_PREFIX: prefix,
    });

    beforeAll(async () => {
      probe = new KafkaProbe(process.env.TEST_KAFKA_BROKERS!, prefix);
      database = await createTestDatabase('catalog');
      const module = await loadSubgraphModule('catalog');
      const runtime = await createServiceRuntime('catalog', {
        env: env(),
        logger: createLogger({ service: 'catalog', level: 'silent' }),
      });
      await module.seedDemoData!(runtime);
      await runtime.close();
      db = new pg.Client({ connectionString: database.url });
      await db.connect();
    }, 120_000);
    afterAll(async () => {
      await catalog?.stop();
      await db?.end();
      await probe?.close();
      await database?.drop();
    });

    const stockOf = async (productId: string) =>
      (await db.query<{ reserved: number }>('SELECT reserved FROM stock WHERE product_id = $1', [productId])).rows[0]!.reserved;
    const count = async (sql: string, values: unknown[]) => Number((await db.query<{ n: string }>(sql, values)).rows[0]!.n);

    it('does not apply the redelivered event a second time', async () => {
      const { rows } = await db.query<{ product_id: string; reserved: number }>(
        `SELECT s.product_id::text AS product_id, s.reserved FROM stock s JOIN products p ON p.id = s.product_id
        WHERE p.status = 'ACTIVE' AND s.on_hand - s.reserved >= 5 LIMIT 1`,
      );
      const { product_id: productId, reserved: before } = rows[0]!;
      const placed = createEvent('OrderPlaced', {
        orderId: randomUUID(),
        userId: randomUUID(),
        paymentMethodId: randomUUID(),
        currency: 'USD',
        lines: [{ productId, quantity: 2 }],
      });
      await probe.send('orders.events', [{ key: placed.aggregateId, value: JSON.stringify(placed) }]);

      // The first consumer reserves, commits, and is killed before the offset commit.
      const crashed = await run(
        process.execPath,
        ['--import', 'tsx', path.join(REPO_ROOT, 'e2e/fixtures/catalog-crash-after-commit.ts')],
        {
          // Its warnings and errors too: if it ever ends any other way, the failure below says why.
          env: { ...env(), LOG_LEVEL: 'warn' },
          cwd: REPO_ROOT,
          timeout: 90_000,
        },
      ).then(
        ({ stdout, stderr }) => ({ stdout, stderr, signal: null as string | null, code: 0 as number | string | null }),
        (error: { stdout: string; stderr: string; signal: string | null; code: number | string | null }) => ({
          stdout: error.stdout,
          stderr: error.stderr,
          signal: error.signal,
          code: error.code,
        }),
      );
      if (crashed.signal !== 'SIGKILL') {
        throw new Error(
          `the consumer was to die by SIGKILL after its commit, but ended with code ${crashed.code}, signal ${crashed.signal}\n` +
            `stdout:\n${crashed.stdout.slice(-4000)}\nstderr:\n${crashed.stderr.slice(-4000)}`,
        );
      }
      expect(crashed.stdout).toContain(`committed OrderPlaced ${placed.id}`);
      expect(await stockOf(productId)).toBe(before + 2);
      const committed = await probe.kafka.admin();
      await committed.connect();
      const offsets = await committed.fetchOffsets({ groupId: `${prefix}catalog.saga`, topics: [`${prefix}orders.events`] });
      await committed.disconnect();
      expect(offsets[0]!.partitions.every((partition) => Number(partition.offset) <= 0)).toBe(true);

      // The real catalog service takes over the group and gets the event again.
      const module = await loadSubgraphModule('catalog');
      catalog = await module.startService(
        await createServiceRuntime('catalog', { env: env(), logger: createLogger({ service: 'catalog', level: 'silent' }) }),
      );
      await probe.waitForCaughtUp({ 'catalog.saga': ['orders.events'] }, 90_000);

      expect(await stockOf(productId)).toBe(before + 2);
      expect(
        await count(`SELECT count(*) AS n FROM outbox_events WHERE aggregate_id = $1 AND type = 'StockReserved'`, [
          placed.aggregateId,
        ]),
      ).toBe(1);
      expect(
        await count(`SELECT count(*) AS n FROM processed_events WHERE consumer = 'catalog.saga' AND event_id = $1::uuid`, [
          placed.id,
        ]),
      ).toBe(1);
    });
  },
);
