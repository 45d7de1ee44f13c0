// The soak harness in miniature (embedded stack, ~20 s of traffic), so it cannot rot unnoticed: the report
// has its shape, and it really counted requests, orders and memory. Nothing here asserts a timing.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopAll } from '../../bench/src/processes.ts';
import { parseHeapUsedMB, readRssMB, summarizeMemory } from './memory.ts';
import { renderMarkdown, type SoakReport } from './report.ts';
import { assertLoopback, runSoak } from './run.ts';
import { TRAFFIC_CLASSES, parseDuration } from './spec.ts';

describe('soak plumbing', () => {
  it('parses bounded durations', () => {
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('10m')).toBe(600);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('45')).toBe(45);
    expect(() => parseDuration('0s')).toThrow();
    expect(() => parseDuration('7h')).toThrow();
    expect(() => parseDuration('ten minutes')).toThrow();
  });

  it('targets loopback only', () => {
    expect(() => assertLoopback('PostgreSQL', 'postgresql://postgres@127.0.0.1:5432/postgres')).not.toThrow();
    expect(() => assertLoopback('Kafka', '127.0.0.1:9092,localhost:9093')).not.toThrow();
    expect(() => assertLoopback('Redis', 'redis://cache.example.com:6379')).toThrow(/127\.0\.0\.1/);
    expect(() => assertLoopback('Kafka', '10.0.0.5:9092')).toThrow();
  });

  it('reads RSS from /proc and heapUsed from Prometheus text', () => {
    expect(readRssMB(process.pid)).toBeGreaterThan(1);
    expect(readRssMB(2 ** 30)).toBeNaN();
    const metrics = '# HELP nodejs_heap_size_used_bytes x\nnodejs_heap_size_used_bytes{service="catalog"} 52428800\n';
    expect(parseHeapUsedMB(metrics)).toBe(50);
    expect(parseHeapUsedMB('process_cpu_seconds_total 3\n')).toBeUndefined();
  });

  it('judges growth after warm-up on the lows of the sawtooth, and flags what exceeds the bound', () => {
    const watched = [
      { name: 'steady', pid: 1 },
      { name: 'leaky', pid: 2 },
    ];
    const samples = Array.from({ length: 20 }, (_, i) => ({
      atSeconds: i * 5,
      rssMB: { steady: 200 + (i % 2) * 40, leaky: 200 + i * 20 },
      heapUsedMB: { steady: 60 + (i % 3) * 30 },
    }));
    const [steady, leaky] = summarizeMemory(watched, samples, 10, { rssMB: 100, heapUsedMB: 50 }, 4);
    expect(steady!.rssMB).toEqual({ start: 200, afterWarmup: 200, end: 200, last: 240, peak: 240 });
    expect(steady!.heapUsedMB).toEqual({ start: 60, afterWarmup: 60, end: 60, last: 90, peak: 120 });
    expect(steady!.flags).toEqual([]);
    expect(leaky!.rssMB.afterWarmup).toBe(240);
    expect(leaky!.rssMB.end).toBe(520);
    expect(leaky!.heapUsedMB).toBeUndefined();
    expect(leaky!.flags).toEqual(['RSS grew 280 MB after warm-up (bound 100 MB)']);
  });
});

describe('soak in miniature (embedded)', () => {
  const resultsDir = mkdtempSync(path.join(os.tmpdir(), 'soak-test-'));
  let report: SoakReport;
  let files: { json: string; markdown: string } | undefined;

  beforeAll(async () => {
    ({ report, files } = await runSoak({
      mode: 'embedded',
      durationSeconds: 20,
      rates: { storefrontPerSecond: 8, checkoutsPerMinute: 40, adminActionsPerMinute: 60 },
      customers: 3,
      sampleIntervalSeconds: 2,
      settleTimeoutSeconds: 120,
      bounds: { rssGrowthMB: 100, heapGrowthMB: 50, errorRate: 0.01 },
      resultsDir,
      command: 'soak.test.ts',
    }));
  }, 300_000);

  afterAll(async () => {
    await stopAll();
    rmSync(resultsDir, { recursive: true, force: true });
  });

  it('counted requests of every class, with latency percentiles', () => {
    for (const name of TRAFFIC_CLASSES) {
      const stats = report.traffic.classes[name];
      expect(stats.requests).toBeGreaterThan(0);
      expect(stats.latencyMs.p50).toBeGreaterThan(0);
      expect(stats.latencyMs.p99).toBeGreaterThanOrEqual(stats.latencyMs.p50);
      expect(stats.errorRate).toBe(stats.errors / stats.requests);
      expect(Object.values(stats.operations).reduce((sum, op) => sum + op.requests, 0)).toBe(stats.requests);
      // Whatever failed, it was never the services' own internal error.
      expect(Object.keys(stats.errorsByCode)).not.toContain('INTERNAL_SERVER_ERROR');
    }
    expect(Object.keys(report.traffic.classes.storefront.operations).sort()).toEqual(
      ['category page', 'product detail', 'products page', 'search'].sort(),
    );
    expect(Object.keys(report.traffic.classes.customers.operations)).toEqual(
      expect.arrayContaining(['login', 'cart', 'addToCart', 'checkout', 'my orders', 'order status']),
    );
    expect(Object.keys(report.traffic.classes.admin.operations)).toEqual(
      expect.arrayContaining(['createProduct', 'product for update', 'updateProduct', 'adjustStock', 'list orders']),
    );
  });

  it('followed every checkout to CONFIRMED or CANCELLED', () => {
    const orders = report.traffic.orders;
    expect(orders.placed).toBeGreaterThan(0);
    expect(orders.placed).toBe(
      report.traffic.classes.customers.operations['checkout']!.requests -
        report.traffic.classes.customers.operations['checkout']!.errors,
    );
    expect(orders.confirmed + orders.cancelled + orders.stuck).toBe(orders.placed);
    expect(orders.stuck).toBe(0);
    expect(orders.confirmed).toBeGreaterThan(0);
    expect(orders.checkoutToConfirmedMs.p50).toBeGreaterThanOrEqual(0);
    expect(orders.idempotencyMismatches).toBe(0);
  });

  it('sampled the memory of each process', () => {
    expect(report.processes.map((process) => process.name)).toEqual(['gateway', expect.stringMatching(/^subgraphs/)]);
    for (const process of report.processes) {
      for (const value of Object.values(process.rssMB)) expect(value).toBeGreaterThan(10);
      expect(process.rssMB.peak).toBeGreaterThanOrEqual(process.rssMB.end);
      expect(process.heapUsedMB?.end).toBeGreaterThan(1);
    }
    expect(report.samples.length).toBeGreaterThanOrEqual(5);
  });

  it('wrote the report as JSON and markdown, with the machine and its load', () => {
    expect(report.meta.cores).toBe(os.cpus().length);
    expect(report.meta.loadAverage.start).toHaveLength(3);
    expect(report.checks.map((check) => check.name)).toEqual(
      expect.arrayContaining(['every order settled (CONFIRMED or CANCELLED)', 'gateway memory within bounds']),
    );
    expect(JSON.parse(readFileSync(files!.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    const markdown = readFileSync(files!.markdown, 'utf8');
    expect(markdown).toBe(renderMarkdown(report));
    for (const heading of ['## Traffic', '## Orders', '## Memory per process', '## Checks']) expect(markdown).toContain(heading);
    expect(markdown).toMatch(/\| storefront \| \d+ \|/);
  });
});
