/**
 * Scenario 6: the checkout flow end to end, through our gateway — customers fill a cart and check out
 * (`addToCart` + `checkout`), and the saga (catalog reserves stock, billing charges the fake provider's
 * `tok_visa`, orders confirms) takes each order to CONFIRMED. Measured:
 *  - orders reaching CONFIRMED per second (first order placed → last order confirmed);
 *  - checkout → CONFIRMED latency per order, from the order's own status history (server timestamps:
 *    the PENDING entry written by checkout, the CONFIRMED entry written by the saga), so no polling
 *    interval distorts it.
 * Runs embedded (PGlite, in-process bus) always, and on Kafka + PostgreSQL when both are configured.
 * Before loading, one probe order must settle: if it stays PENDING the saga is not wired, and the run
 * says so instead of reporting anything. Then warm-up orders, placed like the measured ones and settled
 * before anything is measured, take the cold start (JIT, pools and connections opening, first fetches)
 * out of the figures: on Kafka at 10 orders/s the first ~6 s of orders took 0.5–0.8 s each against
 * ~45 ms afterwards, and set the whole run's p99.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { bearer } from '@commerce/testkit/tokens';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { percentile } from '../load/load-spec.ts';
import { cpuMillis, postgresCpuMillis } from '../load/run-load.ts';
import { REPO_ROOT, type Child } from '../processes.ts';
import { STATEMENT_FILE_INTERVAL_MS } from './pg-statement-counter.ts';
import { hopLatencies, readSagaTimestamps, type HopLatency } from './saga-hops.ts';
import { startOurGateway, startSubgraphs, type Gateway } from '../stack/stack.ts';

export interface CheckoutResult {
  mode: string;
  kafka: boolean;
  /** Orders placed and settled before the measurement, not counted anywhere. */
  warmupOrders: number;
  placed: number;
  confirmed: number;
  cancelled: number;
  /** Orders still PENDING when the wait for settlement ended. */
  unsettled: number;
  /** Checkouts the gateway refused or failed (GraphQL errors or HTTP failures). */
  checkoutErrors: number;
  /** What those failures said, with how often. */
  errorMessages: Record<string, number>;
  confirmedPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  /** Client-side latency of the checkout mutation itself. */
  checkoutMutationMs: { p50: number; p99: number };
  loadAverage: { before: number; after: number };
  /**
   * PostgreSQL transactions committed per placed order in each service's database (placing and saga
   * together, plus the services' background polling), from pg_stat_database; PostgreSQL runs only.
   */
  transactionsPerOrder?: Record<string, number>;
  /** SQL statements sent per placed order by each service (BEGIN/COMMIT included); PostgreSQL runs only. */
  statementsPerOrder?: Record<string, number>;
  /** CPU time per placed order (placing and saga together) of each process that could be measured. */
  cpuMsPerOrder: Record<string, number>;
  /** CPU ms per second of each process while the stack idled for a few seconds before the load. */
  idleCpuMsPerSecond?: Record<string, number>;
  /** Where checkout → CONFIRMED goes, hop by hop, from the databases' outbox and inbox timestamps (Kafka + PostgreSQL). */
  sagaHopsMs?: HopLatency[];
}

export interface CheckoutOptions {
  orders: number;
  /** Orders placed (at the same rate) and settled before the measured ones; default DEFAULT_WARMUP_ORDERS. */
  warmupOrders?: number;
  connections: number;
  databaseUrl?: string;
  kafkaBrokers?: string;
  /** Node flags for the subgraph and gateway processes (e.g. --cpu-prof). */
  nodeFlags?: { subgraphs: string[]; gateway: string[] };
  /** Skip the embedded run when Kafka + PostgreSQL are configured (profiling one mode at a time). */
  kafkaOnly?: boolean;
  /**
   * Offered load: order i is placed no earlier than i / rate seconds after the first (still by at most
   * `connections` customers at once). Unset: every customer places its next order as soon as the last is in.
   */
  ratePerSecond?: number;
}

const ADMIN = bearer(randomUUID(), 'ADMIN');
const SETTLE_TIMEOUT_MS = 120_000;
const PROBE_TIMEOUT_MS = 30_000;
const IDLE_MEASURE_MS = 5_000;
export const DEFAULT_WARMUP_ORDERS = 100;

export async function runCheckoutScenarios(
  options: CheckoutOptions,
): Promise<{ results: CheckoutResult[]; skipped: Record<string, string> }> {
  const results: CheckoutResult[] = [];
  const skipped: Record<string, string> = {};
  const kafkaConfigured = Boolean(options.kafkaBrokers && options.databaseUrl);
  // BENCH_CHECKOUT_KAFKA_ONLY=1: compare saga changes on Kafka without the (slower) embedded run first.
  const kafkaOnly = options.kafkaOnly ?? process.env.BENCH_CHECKOUT_KAFKA_ONLY === '1';
  const runs: { mode: string; databaseUrl: string | undefined; kafkaBrokers: string | undefined }[] =
    kafkaOnly && kafkaConfigured
      ? []
      : [{ mode: 'embedded (PGlite, in-process bus)', databaseUrl: undefined, kafkaBrokers: undefined }];
  if (kafkaConfigured) {
    runs.push({ mode: 'Kafka + PostgreSQL', databaseUrl: options.databaseUrl, kafkaBrokers: options.kafkaBrokers });
  } else {
    skipped['6 checkout on Kafka + PostgreSQL'] =
      'needs BENCH_KAFKA_BROKERS (start a broker with `bash ci/kafka/start.sh`) and BENCH_DATABASE_URL';
  }
  for (const run of runs) {
    console.log(
      `\nScenario 6: checkout → CONFIRMED, ${run.mode}, ${options.orders} orders from ${options.connections} customers`,
    );
    const paced = options.ratePerSecond ? `, paced at ${options.ratePerSecond} orders/s` : '';
    const outcome = await runCheckout({ ...options, ...run, mode: `${run.mode}${paced}` });
    if (typeof outcome === 'string') {
      skipped[`6 checkout, ${run.mode}`] = outcome;
      console.log(`  not measured: ${outcome}`);
    } else {
      results.push(outcome);
    }
  }
  return { results, skipped };
}

interface Customer {
  authorization: string;
  addressId: string;
  paymentMethodId: string;
}

async function runCheckout(options: CheckoutOptions & { mode: string }): Promise<CheckoutResult | string> {
  const kafka = options.kafkaBrokers !== undefined;
  const label = kafka ? 'checkout-kafka' : 'checkout-embedded';
  // On PostgreSQL every subgraph process counts the statements it sends (pg-statement-counter.ts).
  const statementDir = options.databaseUrl ? mkdtempSync(path.join(os.tmpdir(), 'bench-statements-')) : undefined;
  const subgraphs = await startSubgraphs({
    databaseUrl: options.databaseUrl,
    kafkaBrokers: options.kafkaBrokers,
    label,
    nodeFlags: [
      ...(options.nodeFlags?.subgraphs ?? []),
      ...(statementDir ? ['--import', path.join(REPO_ROOT, 'bench/src/scenarios/pg-statement-counter.ts')] : []),
    ],
    env: {
      // Our own topics and consumer groups on a shared broker.
      ...(kafka ? { KAFKA_TOPIC_PREFIX: `bench-${Date.now().toString(36)}.` } : {}),
      ...(statementDir ? { BENCH_PG_STATEMENT_DIR: statementDir } : {}),
    },
  });
  let gateway: Gateway | undefined;
  try {
    gateway = await startOurGateway({
      name: `${label}-gateway`,
      subgraphs: subgraphs.urls,
      responseCache: false,
      nodeFlags: options.nodeFlags?.gateway,
      // Many checkouts from one address: the per-client limits would refuse most of them.
      env: { GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '1000000000' },
    });
    const graph = graphClient(gateway.url);
    const customers = await Promise.all(Array.from({ length: options.connections }, (_, i) => createCustomer(graph, i)));
    const warmupOrders = options.warmupOrders ?? DEFAULT_WARMUP_ORDERS;
    const products = await orderableProducts(graph, warmupOrders + options.orders);

    // Probe: one order must settle before the load means anything.
    const probe = await placeOrder(graph, customers[0]!, products[0]!);
    const probeStatus = await waitForStatus(graph, probe.orderId, PROBE_TIMEOUT_MS);
    if (probeStatus === 'PENDING') {
      return `the saga is not wired: a probe order stayed PENDING for ${PROBE_TIMEOUT_MS / 1000} s`;
    }
    if (probeStatus !== 'CONFIRMED') return `a probe order ended ${probeStatus}, not CONFIRMED`;
    // The statement files lag by up to STATEMENT_FILE_INTERVAL_MS: let the probe's statements land first.
    if (statementDir) await new Promise((resolve) => setTimeout(resolve, STATEMENT_FILE_INTERVAL_MS + 150));
    const processes = measuredProcesses(gateway, subgraphs.children, kafka);
    const cpuOfAll = (): Record<string, number> => ({
      ...Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuMillis(pid)])),
      // The customers' side (this process) and, on PostgreSQL runs, the whole local server (all databases):
      // with them the CPU budget per order is complete.
      'bench client': cpuMillis(process.pid),
      ...(options.databaseUrl ? { 'postgresql (server)': postgresCpuMillis() } : {}),
    });
    // What the stack costs doing nothing (timers, polls, heartbeats): a fixed cost under load too. Measured
    // on the freshly started stack, before the warm-up (after it, PostgreSQL's autovacuum is busy for a while).
    const idleStart = cpuOfAll();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MEASURE_MS));
    const idleEnd = cpuOfAll();
    const idleCpuMsPerSecond = Object.fromEntries(
      Object.keys(idleStart)
        .map((name) => [name, ((idleEnd[name]! - idleStart[name]!) * 1000) / IDLE_MEASURE_MS] as const)
        .filter(([name, ms]) => name !== 'bench client' && Number.isFinite(ms)),
    );
    if (warmupOrders > 0) {
      const warmup = await placeOrders(graph, customers, products, { count: warmupOrders, ratePerSecond: options.ratePerSecond });
      process.stdout.write(
        `  warm-up: ${warmup.placed.length} orders placed (not measured; ${warmup.errors} errors), settling ...`,
      );
      for (const [message, count] of Object.entries(warmup.errorMessages))
        console.log(`\n  warm-up checkout failed ${count}×: ${message}`);
      await waitForSettlement(graph, SETTLE_TIMEOUT_MS);
      console.log(' done');
    }
    // Again: let the warm-up's statements land in the files before they are read.
    if (statementDir) await new Promise((resolve) => setTimeout(resolve, STATEMENT_FILE_INTERVAL_MS + 150));
    const loadBefore = os.loadavg()[0]!;
    const cpuBefore: Record<string, number> = cpuOfAll();
    const transactionsBefore = options.databaseUrl ? await committedTransactions(options.databaseUrl, subgraphs.env) : undefined;
    const statementsBefore = statementDir ? sentStatements(statementDir, processes) : undefined;
    if (statementDir) keepStatementTexts(statementDir, processes, 'before');
    const { placed, mutationMs, errors, errorMessages, started } = await placeOrders(graph, customers, products, {
      count: options.orders,
      ratePerSecond: options.ratePerSecond,
      // Continues the warm-up's walk through the products, so every product's stock is drawn on evenly.
      firstIndex: warmupOrders,
    });
    const placingSeconds = (Date.now() - started) / 1000;
    process.stdout.write(
      `  placed ${placed.length} orders in ${placingSeconds.toFixed(1)} s (${errors} errors); waiting for the saga ...`,
    );
    await waitForSettlement(graph, SETTLE_TIMEOUT_MS);
    const cpuAfter: Record<string, number> = cpuOfAll();
    // The measured orders only: not the probe, not the warm-up.
    const measured = new Set(placed);
    const histories = await orderHistories(graph, measured);
    // PostgreSQL publishes a backend's counters within about a second of its last transaction.
    // (Longer than STATEMENT_FILE_INTERVAL_MS, so the statement files are current too.)
    if (transactionsBefore) await new Promise((resolve) => setTimeout(resolve, 1500));
    const transactionsAfter = options.databaseUrl ? await committedTransactions(options.databaseUrl, subgraphs.env) : undefined;
    const statementsAfter = statementDir ? sentStatements(statementDir, processes) : undefined;
    if (statementDir) keepStatementTexts(statementDir, processes, 'after');
    const loadAfter = os.loadavg()[0]!;
    // After the transaction counts: these reads are transactions in the same databases.
    const sagaTimestamps = kafka ? await readSagaTimestamps(subgraphs.env) : undefined;

    const latencies: number[] = [];
    let confirmed = 0;
    let cancelled = 0;
    let firstPlaced = Number.POSITIVE_INFINITY;
    let lastConfirmed = 0;
    for (const order of histories) {
      const placedAt = Date.parse((order.history.find((change) => change.to === 'PENDING') ?? order.history[0]!).at);
      firstPlaced = Math.min(firstPlaced, placedAt);
      const confirmation = order.history.find((change) => change.to === 'CONFIRMED');
      if (order.status === 'CANCELLED') cancelled += 1;
      if (confirmation) {
        confirmed += 1;
        const confirmedAt = Date.parse(confirmation.at);
        lastConfirmed = Math.max(lastConfirmed, confirmedAt);
        latencies.push(confirmedAt - placedAt);
      }
    }
    latencies.sort((a, b) => a - b);
    mutationMs.sort((a, b) => a - b);
    const result: CheckoutResult = {
      mode: options.mode,
      kafka,
      warmupOrders,
      placed: placed.length,
      confirmed,
      cancelled,
      unsettled: histories.filter((order) => order.status === 'PENDING').length,
      checkoutErrors: errors,
      errorMessages,
      confirmedPerSecond: confirmed > 0 ? confirmed / Math.max(0.001, (lastConfirmed - firstPlaced) / 1000) : 0,
      latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
      checkoutMutationMs: { p50: percentile(mutationMs, 50), p99: percentile(mutationMs, 99) },
      loadAverage: { before: loadBefore, after: loadAfter },
      transactionsPerOrder:
        transactionsBefore && transactionsAfter
          ? Object.fromEntries(
              Object.keys(transactionsAfter).map((name) => [
                name,
                (transactionsAfter[name]! - (transactionsBefore[name] ?? 0)) / Math.max(1, placed.length),
              ]),
            )
          : undefined,
      statementsPerOrder:
        statementsBefore && statementsAfter
          ? Object.fromEntries(
              Object.keys(statementsAfter).map((name) => [
                name,
                (statementsAfter[name]! - (statementsBefore[name] ?? 0)) / Math.max(1, placed.length),
              ]),
            )
          : undefined,
      idleCpuMsPerSecond,
      sagaHopsMs: sagaTimestamps && hopLatencies(sagaTimestamps, measured),
      cpuMsPerOrder: Object.fromEntries(
        Object.keys(cpuBefore)
          .map((name) => [name, (cpuAfter[name]! - cpuBefore[name]!) / Math.max(1, placed.length)] as const)
          .filter(([, ms]) => Number.isFinite(ms)),
      ),
    };
    console.log(
      ` ${confirmed} CONFIRMED, ${cancelled} CANCELLED, ${result.unsettled} PENDING; ${result.confirmedPerSecond.toFixed(1)} confirmed/s, checkout→CONFIRMED p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms`,
    );
    if (result.statementsPerOrder) {
      console.log(
        `  SQL statements per order (BEGIN/COMMIT included): ${Object.entries(result.statementsPerOrder)
          .map(([name, count]) => `${name} ${count.toFixed(1)}`)
          .join(', ')}`,
      );
    }
    if (result.transactionsPerOrder) {
      console.log(
        `  PostgreSQL transactions per order: ${Object.entries(result.transactionsPerOrder)
          .map(([name, count]) => `${name} ${count.toFixed(1)}`)
          .join(', ')}`,
      );
    }
    console.log(
      `  CPU ms per order: ${Object.entries(result.cpuMsPerOrder)
        .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
        .join(', ')}`,
    );
    console.log(
      `  idle CPU ms per second before the load: ${Object.entries(idleCpuMsPerSecond)
        .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
        .join(', ')}`,
    );
    for (const hop of result.sagaHopsMs ?? []) {
      console.log(`  ${hop.hop}: p50 ${hop.p50} ms, p95 ${hop.p95} ms, p99 ${hop.p99} ms`);
    }
    for (const [message, count] of Object.entries(errorMessages)) console.log(`  checkout failed ${count}×: ${message}`);
    return result;
  } finally {
    await gateway?.stop();
    await subgraphs.stop();
    if (statementDir) rmSync(statementDir, { recursive: true, force: true });
  }
}

/** Statements each subgraph process has sent so far (written by pg-statement-counter.ts), by service. */
function sentStatements(directory: string, processes: Record<string, number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [name, pid] of Object.entries(processes)) {
    const file = path.join(directory, String(pid));
    if (existsSync(file)) counts[name] = Number(readFileSync(file, 'utf8'));
  }
  return counts;
}

/**
 * With BENCH_PG_STATEMENT_TEXTS=1, copies each service's statement texts with counts to
 * `bench/results/profiles.tmp/statements-<service>-<when>.json` (compare before/after to see an order's statements).
 */
function keepStatementTexts(directory: string, processes: Record<string, number>, when: 'before' | 'after'): void {
  if (process.env.BENCH_PG_STATEMENT_TEXTS !== '1') return;
  const out = path.join(REPO_ROOT, 'bench/results/profiles.tmp');
  mkdirSync(out, { recursive: true });
  for (const [name, pid] of Object.entries(processes)) {
    const file = path.join(directory, `${pid}.texts.json`);
    if (existsSync(file)) copyFileSync(file, path.join(out, `statements-${name}-${when}.json`));
  }
}

/** `xact_commit` of each service's database (from its `<SERVICE>_DATABASE_URL`). */
async function committedTransactions(adminUrl: string, env: Record<string, string>): Promise<Record<string, number>> {
  const databases = Object.fromEntries(
    Object.entries(env)
      .filter(([key, value]) => key.endsWith('_DATABASE_URL') && value.startsWith('postgres'))
      .map(([key, value]) => [new URL(value).pathname.slice(1), key.replace(/_DATABASE_URL$/, '').toLowerCase()]),
  );
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string; xact_commit: string }>(
      'SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY($1)',
      [Object.keys(databases)],
    );
    return Object.fromEntries(rows.map((row) => [databases[row.datname]!, Number(row.xact_commit)]));
  } finally {
    await client.end();
  }
}

/** The gateway, each subgraph process, and on Kafka runs the broker started by ci/kafka/start.sh (if it runs here). */
function measuredProcesses(gateway: Gateway, subgraphs: Child[], kafka: boolean): Record<string, number> {
  const processes: Record<string, number> = { gateway: gateway.child.pid };
  for (const child of subgraphs) processes[child.name.replace(/^checkout-(embedded|kafka)-?/, '') || 'subgraphs'] = child.pid;
  const kafkaPidFile = path.join(REPO_ROOT, 'ci', 'kafka', 'run', 'kafka.pid');
  if (kafka && existsSync(kafkaPidFile)) processes['kafka broker'] = Number(readFileSync(kafkaPidFile, 'utf8').trim());
  return processes;
}

type Graph = <Data>(query: string, variables?: Record<string, unknown>, authorization?: string) => Promise<Data>;

function graphClient(url: string): Graph {
  return async <Data>(query: string, variables: Record<string, unknown> = {}, authorization?: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Data; errors?: { message: string; extensions?: { code?: string } }[] };
    if (!response.ok || body.errors || !body.data) {
      throw new Error(`HTTP ${response.status}: ${body.errors?.map((e) => `${e.extensions?.code}: ${e.message}`).join('; ')}`);
    }
    return body.data;
  };
}

async function createCustomer(graph: Graph, index: number): Promise<Customer> {
  const email = `bench-${Date.now().toString(36)}-${index}@example.com`;
  const { register } = await graph<{ register: { accessToken: string } }>(
    `mutation ($email: String!, $password: String!, $name: String!) {
      register(email: $email, password: $password, name: $name) { accessToken }
    }`,
    { email, password: `bench-${randomUUID()}`, name: `Bench Customer ${index}` },
  );
  const authorization = `Bearer ${register.accessToken}`;
  const { addAddress } = await graph<{ addAddress: { id: string } }>(
    `mutation ($input: AddressInput!) { addAddress(input: $input) { id } }`,
    {
      input: {
        recipientName: `Bench Customer ${index}`,
        line1: '1 Load Street',
        city: 'Loopback',
        postalCode: '12345',
        country: 'US',
      },
    },
    authorization,
  );
  const { addPaymentMethod } = await graph<{ addPaymentMethod: { id: string } }>(
    `mutation { addPaymentMethod(token: "tok_visa", makeDefault: true) { id } }`,
    {},
    authorization,
  );
  return { authorization, addressId: addAddress.id, paymentMethodId: addPaymentMethod.id };
}

/** Products with plenty of stock, so no order is refused for lack of it (that is another test). */
async function orderableProducts(graph: Graph, orders: number): Promise<string[]> {
  const { products } = await graph<{ products: { nodes: { id: string; stock: { available: number } }[] } }>(
    `{ products(first: 100, filter: { inStock: true }) { nodes { id stock { available } } } }`,
  );
  const plenty = products.nodes.filter((product) => product.stock.available >= 20);
  const capacity = plenty.reduce((sum, product) => sum + product.stock.available, 0);
  if (plenty.length === 0 || capacity < orders + 1)
    throw new Error(`not enough demo stock for ${orders} orders (${capacity} units)`);
  return plenty.map((product) => product.id);
}

interface Placement {
  placed: string[];
  mutationMs: number[];
  errors: number;
  errorMessages: Record<string, number>;
  /** When the first order was due (epoch ms). */
  started: number;
}

/**
 * Places `count` orders, each customer placing its next as soon as its last is in (or when due at
 * `ratePerSecond`); order i buys product `firstIndex + i` (cycling through the list).
 */
async function placeOrders(
  graph: Graph,
  customers: Customer[],
  products: string[],
  options: { count: number; ratePerSecond?: number; firstIndex?: number },
): Promise<Placement> {
  const placement: Placement = { placed: [], mutationMs: [], errors: 0, errorMessages: {}, started: Date.now() };
  const { count, ratePerSecond, firstIndex = 0 } = options;
  let next = 0;
  await Promise.all(
    customers.map(async (customer) => {
      for (let index = next++; index < count; index = next++) {
        if (ratePerSecond) {
          const due = placement.started + (index * 1000) / ratePerSecond;
          if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        }
        try {
          const order = await placeOrder(graph, customer, products[(firstIndex + index) % products.length]!);
          placement.placed.push(order.orderId);
          placement.mutationMs.push(order.checkoutMs);
        } catch (error) {
          placement.errors += 1;
          const message = (error as Error).message.slice(0, 200);
          placement.errorMessages[message] = (placement.errorMessages[message] ?? 0) + 1;
        }
      }
    }),
  );
  return placement;
}

async function placeOrder(graph: Graph, customer: Customer, productId: string): Promise<{ orderId: string; checkoutMs: number }> {
  await graph(
    `mutation ($productId: ID!) { addToCart(productId: $productId, quantity: 1) { itemCount } }`,
    { productId },
    customer.authorization,
  );
  const started = performance.now();
  const { checkout } = await graph<{ checkout: { id: string } }>(
    `mutation ($paymentMethodId: ID!, $shippingAddressId: ID!, $idempotencyKey: String!) {
      checkout(paymentMethodId: $paymentMethodId, shippingAddressId: $shippingAddressId, idempotencyKey: $idempotencyKey) { id status }
    }`,
    { paymentMethodId: customer.paymentMethodId, shippingAddressId: customer.addressId, idempotencyKey: randomUUID() },
    customer.authorization,
  );
  return { orderId: checkout.id, checkoutMs: performance.now() - started };
}

async function waitForStatus(graph: Graph, orderId: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let status = 'PENDING';
  while (Date.now() < deadline) {
    ({
      order: { status },
    } = await graph<{ order: { status: string } }>(`query ($id: ID!) { order(id: $id) { status } }`, { id: orderId }, ADMIN));
    if (status !== 'PENDING') return status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return status;
}

async function waitForSettlement(graph: Graph, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { orders } = await graph<{ orders: { totalCount: number } }>(
      `{ orders(first: 1, filter: { status: PENDING }) { totalCount } }`,
      {},
      ADMIN,
    );
    if (orders.totalCount === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

interface OrderHistory {
  id: string;
  status: string;
  history: { to: string; at: string }[];
}

async function orderHistories(graph: Graph, ids: Set<string>): Promise<OrderHistory[]> {
  const found: OrderHistory[] = [];
  let after: string | null = null;
  for (;;) {
    const { orders }: { orders: { nodes: OrderHistory[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } =
      await graph(
        `query ($after: String) {
        orders(first: 100, after: $after) { nodes { id status history { to at } } pageInfo { hasNextPage endCursor } }
      }`,
        { after },
        ADMIN,
      );
    found.push(...orders.nodes.filter((order) => ids.has(order.id)));
    if (!orders.pageInfo.hasNextPage) return found;
    after = orders.pageInfo.endCursor;
  }
}
