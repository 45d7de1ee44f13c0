/**
 * `npm run soak` — a bounded soak: mixed storefront / customer / admin traffic at a fixed rate for
 * SOAK_DURATION (default 10m), then a report under reliability/results/. Exits 1 when a check failed.
 *
 *   npm run soak                        full mode (PostgreSQL, Redis, Kafka on 127.0.0.1), 10 minutes
 *   SOAK_MODE=embedded SOAK_DURATION=90s npm run soak
 *
 * Environment (all optional): SOAK_MODE (full | embedded; default full), SOAK_DURATION (90s, 10m, 1h),
 * SOAK_DATABASE_URL (postgresql://postgres@127.0.0.1:5432/postgres), SOAK_REDIS_URL
 * (redis://127.0.0.1:6379), SOAK_KAFKA_BROKERS (127.0.0.1:9092), SOAK_STOREFRONT_RPS (12),
 * SOAK_CHECKOUTS_PER_MIN (40), SOAK_ADMIN_PER_MIN (20), SOAK_CUSTOMERS (8), SOAK_SAMPLE_SECONDS (5),
 * SOAK_RSS_GROWTH_MB (100), SOAK_HEAP_GROWTH_MB (50), SOAK_MAX_ERROR_RATE (0.01),
 * SOAK_SETTLE_TIMEOUT_SECONDS (120), SOAK_RESULTS_DIR (reliability/results).
 */
import path from 'node:path';
import { REPO_ROOT, stopAll } from '../../bench/src/processes.ts';
import { renderMarkdown } from './report.ts';
import { runSoak } from './run.ts';
import { parseDuration } from './spec.ts';

const env = process.env;
const number = (name: string, fallback: number) => {
  const value = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};
const mode = (env.SOAK_MODE ?? 'full') as 'full' | 'embedded';
if (mode !== 'full' && mode !== 'embedded') throw new Error('SOAK_MODE is full or embedded');

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the soak and every process it started ...`);
    controller.abort();
  });
}

try {
  const { report, files } = await runSoak({
    mode,
    durationSeconds: parseDuration(env.SOAK_DURATION || '10m'),
    rates: {
      storefrontPerSecond: number('SOAK_STOREFRONT_RPS', 12),
      checkoutsPerMinute: number('SOAK_CHECKOUTS_PER_MIN', 40),
      adminActionsPerMinute: number('SOAK_ADMIN_PER_MIN', 20),
    },
    customers: Math.max(1, Math.round(number('SOAK_CUSTOMERS', 8))),
    databaseUrl: env.SOAK_DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres',
    redisUrl: env.SOAK_REDIS_URL || 'redis://127.0.0.1:6379',
    kafkaBrokers: env.SOAK_KAFKA_BROKERS || '127.0.0.1:9092',
    sampleIntervalSeconds: number('SOAK_SAMPLE_SECONDS', 5),
    settleTimeoutSeconds: number('SOAK_SETTLE_TIMEOUT_SECONDS', 120),
    bounds: {
      rssGrowthMB: number('SOAK_RSS_GROWTH_MB', 100),
      heapGrowthMB: number('SOAK_HEAP_GROWTH_MB', 50),
      errorRate: number('SOAK_MAX_ERROR_RATE', 0.01),
    },
    resultsDir: path.resolve(REPO_ROOT, env.SOAK_RESULTS_DIR || 'reliability/results'),
    command: `SOAK_MODE=${mode} SOAK_DURATION=${env.SOAK_DURATION || '10m'} npm run soak`,
    log: (line) => console.log(line),
    signal: controller.signal,
  });
  console.log('\n' + renderMarkdown(report));
  if (files) console.log(`written: ${path.relative(REPO_ROOT, files.markdown)}, ${path.relative(REPO_ROOT, files.json)}`);
  process.exitCode = report.checks.every((check) => check.ok) ? 0 : 1;
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await stopAll();
}
