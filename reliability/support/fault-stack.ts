/**
 * The whole graph on servers of its own, one process per service, for fault tests: a private
 * PostgreSQL cluster, Redis and Kafka broker (so the shared ones are never touched), the four
 * subgraphs and our gateway started by the benchmark's stack (`bench/src/stack`), plus what a fault
 * test does to them (SIGKILL a subgraph and start it again; stop PostgreSQL, Redis or Kafka) and a
 * steady stream of checkouts through the gateway while it happens.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PrivateBroker } from '../../e2e/private-broker.ts';
import { newShopper, setAvailable, stockedProducts, type Shopper } from '../../e2e/saga-support.ts';
import { freePort, spawnNode, waitForHttp } from '../../bench/src/processes.ts';
import {
  startOurGateway,
  startSubgraphs,
  type OurGateway,
  type SubgraphName,
  type Subgraphs,
} from '../../bench/src/stack/stack.ts';
import { reconcile, type ReconcileReport } from '../../scripts/reconcile-rules.ts';
import { readSnapshot, type DatabaseUrls } from '../../scripts/reconcile-snapshot.ts';
import { PrivatePostgres, PrivateRedis } from './private-servers.ts';

export interface GraphBody<Data> {
  data?: Data;
  errors?: { message: string; extensions?: { code?: string } & Record<string, unknown> }[];
}

export interface FaultStack {
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  broker: PrivateBroker;
  subgraphs: Subgraphs;
  gateway: OurGateway;
  databaseUrls: DatabaseUrls;
  query<Data = Record<string, unknown>>(
    text: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
    timeoutMs?: number,
  ): Promise<{ status: number; body: GraphBody<Data> }>;
  killSubgraph(name: SubgraphName): Promise<void>;
  /** SIGSTOP (true) or SIGCONT (false): the process keeps its sockets open but answers nothing. */
  freezeSubgraph(name: SubgraphName, frozen: boolean): void;
  startSubgraph(name: SubgraphName): Promise<void>;
  stop(): Promise<void>;
}

export interface FaultStackOptions {
  label: string;
  /** The private broker's port; by default a free one (a fixed one collides with a concurrent run's broker). */
  kafkaPort?: number;
  /** Orders left PENDING longer than this are cancelled by the orders service's sweeper. */
  pendingTimeoutMs?: number;
}

export async function startFaultStack(options: FaultStackOptions): Promise<FaultStack> {
  const postgres = new PrivatePostgres(await freePort());
  const redis = new PrivateRedis(await freePort());
  const broker = new PrivateBroker(options.kafkaPort ?? (await freePort()), await freePort());
  const cleanup: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  };
  try {
    await postgres.init();
    cleanup.push(() => postgres.destroy());
    await postgres.start();
    await redis.start();
    cleanup.push(() => redis.destroy());
    cleanup.push(() => broker.destroy());
    await broker.start();
    const subgraphs = await startSubgraphs({
      label: options.label,
      databaseUrl: postgres.url,
      kafkaBrokers: broker.brokers,
      env: {
        REDIS_URL: redis.url,
        ORDER_PENDING_TIMEOUT_MS: String(options.pendingTimeoutMs ?? 60_000),
        LOG_LEVEL: 'info',
      },
    });
    cleanup.push(() => subgraphs.stop());
    const gateway = await startOurGateway({
      name: `${options.label}-gateway`,
      subgraphs: subgraphs.urls,
      responseCache: true,
      env: {
        REDIS_URL: redis.url,
        SUBGRAPH_TIMEOUT_MS: '5000',
        LOG_LEVEL: 'info',
        // The checkout load places orders far faster than a shopper would, and placeOrder is rate limited per use.
        GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '1000000000',
      },
    });
    cleanup.push(() => gateway.stop());
    const databaseUrls = {
      catalog: subgraphs.env.CATALOG_DATABASE_URL!,
      users: subgraphs.env.USERS_DATABASE_URL!,
      orders: subgraphs.env.ORDERS_DATABASE_URL!,
      billing: subgraphs.env.BILLING_DATABASE_URL!,
    };
    const index = (name: SubgraphName) =>
      subgraphs.children.findIndex((child) => child.name.startsWith(`${options.label}-${name}`));
    let restarts = 0;

    return {
      postgres,
      redis,
      broker,
      subgraphs,
      gateway,
      databaseUrls,
      async query(text, variables = {}, headers = {}, timeoutMs = 30_000) {
        const response = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ query: text, variables }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        return { status: response.status, body: (await response.json()) as GraphBody<never> };
      },
      freezeSubgraph(name, frozen) {
        subgraphs.children[index(name)]!.process.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
      },
      async killSubgraph(name) {
        const child = subgraphs.children[index(name)]!;
        child.process.kill('SIGKILL');
        await child.exited;
      },
      /** The same entry point, environment and port as before (so the gateway finds it again). */
      async startSubgraph(name) {
        const child = spawnNode(`${options.label}-${name}-restart${++restarts}`, {
          args: [`subgraphs/${name}/src/main.ts`],
          env: subgraphs.env,
        });
        subgraphs.children[index(name)] = child;
        await waitForHttp(`${subgraphs.management[name]}/ready`, child);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Counts a client would see: orders it got an id for, and failed attempts by extensions.code. */
export interface CheckoutLoad {
  placed: string[];
  errorsByCode: Record<string, number>;
  attempts: number;
  /** Checkouts given up after every retry failed (no order id). */
  abandoned: number;
  stop(): Promise<void>;
}

const PLACE_ORDER = `mutation ($lines: [OrderLineInput!]!, $pm: ID!, $address: ID!, $key: String!) {
  placeOrder(lines: $lines, paymentMethodId: $pm, shippingAddressId: $address, idempotencyKey: $key) { id status }
}`;

/**
 * `shoppers` customers check out in a loop (1–2 units of one of a few well-stocked products, a short
 * pause between orders), as a client would: a failed checkout is retried with the same idempotency
 * key a few times, so a retry can never make a second order.
 */
export async function startCheckoutLoad(stack: Pick<FaultStack, 'query'>, shoppers = 4, pauseMs = 150): Promise<CheckoutLoad> {
  const products = (await stockedProducts(stack.query, 20)).slice(0, 3);
  if (products.length === 0) throw new Error('no product in stock to sell');
  // Plenty of units: every cancellation then has a reason worth looking at (the declined card, or a fault).
  for (const product of products) await setAvailable(stack.query, product, 100_000);
  const customers: Shopper[] = [];
  // One shopper's card is always declined, so the cancel-and-release path runs under the fault too.
  for (let i = 0; i < shoppers; i++) customers.push(await newShopper(stack.query, i === 0 ? 'tok_chargeDeclined' : 'tok_visa'));
  const load: CheckoutLoad = { placed: [], errorsByCode: {}, attempts: 0, abandoned: 0, stop: async () => undefined };
  let running = true;
  const count = (code: string) => (load.errorsByCode[code] = (load.errorsByCode[code] ?? 0) + 1);

  const checkout = async (shopper: Shopper, n: number) => {
    const key = randomUUID();
    const lines = [{ productId: products[n % products.length]!, quantity: 1 + (n % 2) }];
    for (let attempt = 0; attempt < 4; attempt++) {
      load.attempts++;
      try {
        const { status, body } = await stack.query<{ placeOrder: { id: string } }>(
          PLACE_ORDER,
          { lines, pm: shopper.paymentMethodId, address: shopper.addressId, key },
          shopper.headers,
          20_000,
        );
        const id = body.data?.placeOrder?.id;
        if (id) {
          load.placed.push(id);
          return;
        }
        count(body.errors?.[0]?.extensions?.code ?? `HTTP_${status}`);
      } catch (error) {
        count((error as Error).name === 'TimeoutError' ? 'CLIENT_TIMEOUT' : 'CONNECTION_FAILED');
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    load.abandoned++;
  };

  const loops = customers.map(async (shopper) => {
    for (let n = 0; running; n++) {
      await checkout(shopper, n);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  });
  load.stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  return load;
}

export interface Settlement {
  placed: number;
  /** Orders the client got an id for that the orders database does not have. */
  missing: string[];
  byStatus: Record<string, number>;
  /** From the end of the load until no placed order was PENDING. */
  settleMs: number;
  report: ReconcileReport;
}

/**
 * Waits until every placed order has left PENDING and the books reconcile (compensations such as late
 * refunds may land after the last status change), or the time runs out; returns what it saw last.
 */
export async function settleAndReconcile(
  stack: Pick<FaultStack, 'databaseUrls'>,
  placed: readonly string[],
  timeoutMs = 180_000,
): Promise<Settlement> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const client = new pg.Client({ connectionString: stack.databaseUrls.orders });
  await client.connect();
  let settleMs = -1;
  let byStatus: Record<string, number> = {};
  let missing: string[] = [];
  let report: ReconcileReport | undefined;
  try {
    for (;;) {
      const { rows } = await client.query<{ id: string; status: string }>(
        'SELECT id::text AS id, status FROM orders WHERE id = ANY($1::uuid[])',
        [[...placed]],
      );
      const found = new Map(rows.map((row) => [row.id, row.status]));
      missing = placed.filter((id) => !found.has(id));
      byStatus = {};
      for (const status of found.values()) byStatus[status] = (byStatus[status] ?? 0) + 1;
      const pending = byStatus.PENDING ?? 0;
      if (pending === 0 && settleMs < 0) settleMs = Date.now() - started;
      if (pending === 0) {
        // Nothing may be in flight any more: no grace for PENDING orders, refunds or outboxes.
        report = reconcile(await readSnapshot(stack.databaseUrls), { pendingGraceMs: 0, settleGraceMs: 0, outboxGraceMs: 0 });
        if (report.ok) break;
      }
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    report ??= reconcile(await readSnapshot(stack.databaseUrls), { pendingGraceMs: 0, settleGraceMs: 0, outboxGraceMs: 0 });
  } finally {
    await client.end();
  }
  return { placed: placed.length, missing, byStatus, settleMs, report };
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `condition` holds (polled), or throws after `timeoutMs`. */
export async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition().catch(() => false)) return;
    await pause(500);
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
}

/** The figures every fault scenario reports once its load stopped and the books were reconciled. */
export function settlementFigures(load: CheckoutLoad, settlement: Settlement): Record<string, unknown> {
  return {
    placed: settlement.placed,
    byStatus: settlement.byStatus,
    attempts: load.attempts,
    abandoned: load.abandoned,
    errorsByCode: load.errorsByCode,
    settleMs: settlement.settleMs,
    violations: settlement.report.violations,
  };
}

/** Nothing lost, nothing stuck, the books agree across services, and the shop still sold something. */
export function expectSettledAndReconciled(settlement: Settlement): void {
  expect(settlement.missing).toEqual([]);
  expect(settlement.byStatus.PENDING ?? 0).toBe(0);
  expect(settlement.report.violations).toEqual([]);
  expect(settlement.byStatus.CONFIRMED ?? 0).toBeGreaterThan(0);
}
