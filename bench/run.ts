/**
 * `npm run bench`: starts what the benchmarks need on loopback, runs bounded loads from a separate
 * process, stops everything it started (by PID) and writes bench/results/<date>.md and .json.
 * Benchmarks print figures; they assert nothing about time. See docs/benchmarks.md.
 *
 *   npm run bench                                   # every scenario (about 6–8 minutes on 2 cores)
 *   npm run bench -- --scenario 1,2                 # only some: 1 storefront (ours), 2 Hive Gateway,
 *                                                   #   3 cache hit + ceiling, 4 mobile, 5 batching, 6 checkout
 *   npm run bench -- --duration 15 --warmup 3 --connections 16 --rounds 2
 *   npm run bench -- --profile [--scenario 3|6]     # CPU profiles under scenario 1 (or 3, or 6)
 *   BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres npm run bench   # subgraphs on PostgreSQL
 *   BENCH_KAFKA_BROKERS=127.0.0.1:9092 npm run bench -- --scenario 6                # checkout on Kafka too
 *   BENCH_REDIS_URL=redis://127.0.0.1:6379 npm run bench                            # our gateway on Redis
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { stopAll } from './src/processes.ts';
import { runGatewayScenarios } from './src/scenarios/gateway-scenarios.ts';
import { runBatchingScenario } from './src/scenarios/batching.ts';
import { DEFAULT_WARMUP_ORDERS, runCheckoutScenarios } from './src/scenarios/checkout.ts';
import { profileCheckout, profileOurGateway } from './src/profile.ts';
import { startSubgraphs } from './src/stack/stack.ts';
import { evaluateTargets, renderMarkdown, writeResults, type RunResults } from './src/report.ts';

const SCENARIO_NAMES: Record<string, number> = { storefront: 1, hive: 2, peer: 2, cache: 3, mobile: 4, batching: 5, checkout: 6 };

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: '1,2,3,4,5,6' },
    duration: { type: 'string', default: '12' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    'page-size': { type: 'string', default: '50' },
    'checkout-orders': { type: 'string', default: '600' },
    'checkout-rate': { type: 'string' },
    'checkout-warmup': { type: 'string' },
    'gateway-env': { type: 'string', multiple: true, default: [] },
    'gateway-node-flag': { type: 'string', multiple: true, default: [] },
    profile: { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(
    [
      'npm run bench -- [options]',
      '  --scenario 1,2,3,4,5,6   which scenarios (numbers or names: storefront, hive, cache, mobile, batching, checkout)',
      '  --duration 12            seconds measured per load run',
      '  --warmup 3               seconds of unmeasured warm-up before each load run',
      '  --connections 16         concurrent connections of the load generator',
      '  --rounds 2               alternating rounds for the ours/Hive and hit/ceiling comparisons',
      '  --page-size 50           products per storefront page',
      '  --checkout-orders 600    orders placed per checkout run',
      '  --checkout-rate N        offer N orders a second (default: as fast as 16 customers can place them)',
      `  --checkout-warmup ${DEFAULT_WARMUP_ORDERS}    orders placed the same way and settled before measuring (0: none)`,
      '  --gateway-env KEY=VALUE  extra setting for our gateway (repeatable), e.g. SUBGRAPH_DEDUPE_QUERIES=false',
      '                           to measure it without an optimisation',
      '  --gateway-node-flag F    extra Node flag for our gateway (repeatable), e.g. --gateway-node-flag=--max-semi-space-size=64',
      '  --profile                CPU-profile our gateway and the subgraphs under scenario 1, or under 3 with',
      '                           --scenario 3 (cache hits) or 6 (checkout); writes bench/results/profiles.tmp/',
      '  --no-write               print only; do not write bench/results/<date>.{md,json}',
      'Environment: BENCH_DATABASE_URL (subgraphs on PostgreSQL), BENCH_KAFKA_BROKERS (checkout on Kafka),',
      '             BENCH_REDIS_URL (our gateway keeps its response cache, APQ and rate limits in Redis)',
    ].join('\n'),
  );
  process.exit(0);
}

const integerAtLeast = (minimum: number, what: string) => (name: string, value: string | undefined) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < minimum) {
    console.error(`--${name} must be a ${what} integer`);
    process.exit(2);
  }
  return number;
};
const positiveInt = integerAtLeast(1, 'positive');
const nonNegativeInt = integerAtLeast(0, 'non-negative');
const scenarios = new Set(
  values.scenario!.split(',').map((item) => {
    const trimmed = item.trim().toLowerCase();
    const number = SCENARIO_NAMES[trimmed] ?? Number(trimmed);
    if (!Number.isInteger(number) || number < 1 || number > 6) {
      console.error(`unknown scenario ${JSON.stringify(item)}: use 1-6 or ${Object.keys(SCENARIO_NAMES).join(', ')}`);
      process.exit(2);
    }
    return number;
  }),
);
const settings = {
  connections: positiveInt('connections', values.connections),
  warmupSeconds: Number(values.warmup) >= 0 ? Number(values.warmup) : 3,
  durationSeconds: positiveInt('duration', values.duration),
};
const rounds = positiveInt('rounds', values.rounds);
const pageSize = positiveInt('page-size', values['page-size']);
const gatewayEnv = Object.fromEntries(
  (values['gateway-env'] ?? []).map((pair) => {
    const at = pair.indexOf('=');
    if (at <= 0) {
      console.error(`--gateway-env takes KEY=VALUE, not ${JSON.stringify(pair)}`);
      process.exit(2);
    }
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);
const databaseUrl = process.env.BENCH_DATABASE_URL || undefined;
const kafkaBrokers = process.env.BENCH_KAFKA_BROKERS || undefined;

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping what the benchmark started ...`);
    void stopAll().then(() => process.exit(130));
  });
}

const started = Date.now();
const startLoad = os.loadavg();
console.log(
  `commerce-graph benchmarks — ${os.cpus().length} cores, Node ${process.versions.node}, load average ${startLoad
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
if (startLoad[0]! > os.cpus().length) {
  console.log(
    `  note: the machine is busy (load ${startLoad[0]!.toFixed(1)} on ${os.cpus().length} cores); figures will be noisy — prefer rerunning later`,
  );
}

const results: Omit<RunResults, 'targets' | 'meta'> & { subgraphMode?: string } = { skipped: {} };
let failed = false;
try {
  if (values.profile && scenarios.size === 1 && scenarios.has(6)) {
    await profileCheckout({
      orders: positiveInt('checkout-orders', values['checkout-orders']),
      ...(values['checkout-warmup'] ? { warmupOrders: nonNegativeInt('checkout-warmup', values['checkout-warmup']) } : {}),
      connections: settings.connections,
      databaseUrl,
      kafkaBrokers,
    });
  } else if (values.profile) {
    await profileOurGateway({ settings, pageSize, databaseUrl, gatewayEnv, cacheHit: scenarios.size === 1 && scenarios.has(3) });
  } else {
    const gatewayScenarios = new Set([...scenarios].filter((n) => n <= 4));
    if (gatewayScenarios.size > 0) {
      console.log(
        `\nStarting the subgraphs (${databaseUrl ? 'PostgreSQL, one process each' : 'embedded PGlite, one process'}) ...`,
      );
      const subgraphs = await startSubgraphs({ databaseUrl });
      results.subgraphMode = subgraphs.mode;
      try {
        results.gateway = await runGatewayScenarios(subgraphs, {
          scenarios: gatewayScenarios,
          settings,
          rounds,
          pageSize,
          gatewayEnv,
          gatewayNodeFlags: values['gateway-node-flag'],
        });
      } finally {
        await subgraphs.stop();
      }
    }
    if (scenarios.has(5)) results.batching = await runBatchingScenario({ databaseUrl });
    if (scenarios.has(6)) {
      const checkout = await runCheckoutScenarios({
        orders: positiveInt('checkout-orders', values['checkout-orders']),
        ...(values['checkout-rate'] ? { ratePerSecond: positiveInt('checkout-rate', values['checkout-rate']) } : {}),
        ...(values['checkout-warmup'] ? { warmupOrders: nonNegativeInt('checkout-warmup', values['checkout-warmup']) } : {}),
        connections: settings.connections,
        databaseUrl,
        kafkaBrokers,
      });
      results.checkout = checkout.results;
      Object.assign(results.skipped, checkout.skipped);
    }
  }
} catch (error) {
  failed = true;
  if (!interrupted) console.error(`\nbenchmark failed: ${(error as Error).stack ?? String(error)}`);
} finally {
  await stopAll();
}

if (!values.profile && !interrupted) {
  const { subgraphMode, ...rest } = results;
  const now = new Date();
  const full: RunResults = {
    ...rest,
    meta: {
      date: now.toISOString(),
      cores: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.versions.node,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      loadAverage: { start: startLoad, end: os.loadavg() },
      subgraphMode,
      gatewayStore: process.env.BENCH_REDIS_URL ? 'Redis' : 'memory',
      settings: { ...settings, rounds, pageSize },
      gatewayEnv,
      gatewayNodeFlags: values['gateway-node-flag'] ?? [],
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      durationSeconds: (Date.now() - started) / 1000,
    },
    targets: [],
  };
  full.targets = evaluateTargets(full);
  console.log('\n' + renderMarkdown(full));
  if (!values['no-write'] && !failed) {
    const name = now.toISOString().slice(0, 10);
    const suffix = now.toISOString().slice(11, 16).replace(':', '');
    const written = writeResults(full, scenarios.size === 6 ? name : `${name}-${suffix}-partial`, suffix);
    console.log(`written: ${written.markdown}\n         ${written.json}`);
  }
}
process.exit(failed ? 1 : 0);
