// The benchmark harness's own arithmetic and plumbing (not timings: benchmarks assert nothing about time).
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { percentile } from '../src/load/load-spec.ts';
import { cpuMillis } from '../src/load/run-load.ts';
import { summarize } from '../src/profile.ts';
import { HOPS, hopLatencies, type OutboxTimes } from '../src/scenarios/saga-hops.ts';
import { evaluateTargets, renderMarkdown, writeResults, type RunResults } from '../src/report.ts';
import { pathToFileURL } from 'node:url';
import { createSubgraphTokenVerifier, parseSubgraphKeyring, SUBGRAPH_TOKEN_HEADER } from '@commerce/platform';
import { HIVE_CONFIG_FILE, SUPERGRAPH_FILE, hiveGatewayEnv, jwtEnv, pointSupergraphAt } from '../src/stack/stack.ts';
import type { Measurement } from '../src/load/run-load.ts';

/** A run's metadata as the report needs it (the figures themselves do not matter here). */
const runMeta = (date = '2026-01-01T00:00:00.000Z') => ({
  date,
  cores: 2,
  cpuModel: 'cpu',
  memoryGiB: 1,
  node: '20',
  platform: 'linux',
  loadAverage: { start: [1, 1, 1], end: [1, 1, 1] },
  settings: { connections: 1, warmupSeconds: 1, durationSeconds: 1, rounds: 1, pageSize: 50 },
  gatewayEnv: {},
  command: 'npm run bench',
  durationSeconds: 1,
});

describe('percentile (nearest rank)', () => {
  it('picks the value at or above the rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('the supergraph Hive Gateway serves', () => {
  it('is the composed file with only the subgraph URLs changed', () => {
    const original = readFileSync(SUPERGRAPH_FILE, 'utf8');
    const urls = {
      catalog: 'http://127.0.0.1:1001/graphql',
      users: 'http://127.0.0.1:1002/graphql',
      orders: 'http://127.0.0.1:1003/graphql',
      billing: 'http://127.0.0.1:1004/graphql',
    };
    const pointed = pointSupergraphAt(original, urls);
    for (const [name, url] of Object.entries(urls)) expect(pointed).toContain(`@join__graph(name: "${name}", url: "${url}")`);
    const withoutUrls = (sdl: string) => sdl.replace(/url: "[^"]*"/g, 'url: ""');
    expect(withoutUrls(pointed)).toBe(withoutUrls(original));
  });
});

describe('the proof Hive Gateway presents to the subgraphs', () => {
  const urls = {
    catalog: 'http://127.0.0.1:1001/graphql',
    users: 'http://127.0.0.1:1002/graphql',
    orders: 'http://127.0.0.1:1003/graphql',
    billing: 'http://127.0.0.1:1004/graphql',
  };
  const saved = { ...process.env };
  afterAll(() => {
    for (const name of ['SUBGRAPH_AUTH_KEYS', 'BENCH_SUBGRAPH_AUDIENCES']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('is a subgraph access token the subgraph the call goes to accepts, and no other', async () => {
    Object.assign(process.env, hiveGatewayEnv(urls));
    type Plugin = { onFetch(payload: { url: string; options: { headers?: unknown }; setOptions(options: unknown): void }): void };
    const { gatewayConfig } = (await import(pathToFileURL(HIVE_CONFIG_FILE).href)) as { gatewayConfig: { plugins(): Plugin[] } };
    const [plugin] = gatewayConfig.plugins();
    let sent: { headers: Record<string, string> } | undefined;
    const onFetch = (url: string, headers: unknown) =>
      plugin!.onFetch({ url, options: { headers }, setOptions: (options) => (sent = options as typeof sent) });

    onFetch(urls.users, { 'content-type': 'application/json', authorization: 'Bearer client' });
    const keyring = parseSubgraphKeyring(jwtEnv.SUBGRAPH_AUTH_KEYS!);
    const token = sent!.headers[SUBGRAPH_TOKEN_HEADER];
    expect(createSubgraphTokenVerifier(keyring, 'users')(token)).toEqual({ ok: true, issuer: 'hive-gateway' });
    expect(createSubgraphTokenVerifier(keyring, 'catalog')(token)).toEqual({ ok: false, reason: 'wrong audience' });
    // The client's headers travel on unchanged.
    expect(sent!.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer client' });

    onFetch(urls.catalog, new Headers({ 'content-type': 'application/json' }));
    expect(createSubgraphTokenVerifier(keyring, 'catalog')(sent!.headers[SUBGRAPH_TOKEN_HEADER]).ok).toBe(true);
  });
});

describe('CPU time from /proc', () => {
  it('grows while this process works', () => {
    const before = cpuMillis(process.pid);
    expect(Number.isFinite(before)).toBe(true);
    // Work until the clock-tick-grained counter moves (bounded, in case the machine is very busy).
    const deadline = performance.now() + 5000;
    let spin = 0;
    do {
      for (let i = 0; i < 100_000; i++) spin += Math.sqrt(i);
    } while (cpuMillis(process.pid) <= before && performance.now() < deadline);
    expect(spin).toBeGreaterThan(0);
    expect(cpuMillis(process.pid)).toBeGreaterThan(before);
  });

  it('is NaN for a process that does not exist', () => {
    expect(cpuMillis(2 ** 30)).toBeNaN();
  });
});

describe('CPU profile summary', () => {
  it('attributes self time to packages and functions', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 3, 4] },
        {
          id: 2,
          callFrame: {
            functionName: 'applySelectionSet',
            url: 'file:///x/node_modules/@apollo/gateway/dist/a.js',
            lineNumber: 9,
          },
        },
        { id: 3, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
        { id: 4, callFrame: { functionName: 'writev', url: 'node:net', lineNumber: 1 } },
      ],
      samples: [2, 2, 3, 4],
      timeDeltas: [500, 1500, 1000, 1000],
      startTime: 0,
      endTime: 4000,
    };
    const text = summarize('test', profile).join('\n');
    expect(text).toContain('| 50.0% | @apollo/gateway |');
    expect(text).toContain('| 25.0% | node: internals |');
    expect(text).toContain('| 50.0% | applySelectionSet @apollo/gateway/dist/a.js:10 |');
    expect(text).toContain('idle 25.0%');
  });
});

describe('targets', () => {
  const measurement = (requestsPerSecond: number, cpu = 1): Measurement => ({
    label: 'x',
    requests: 100,
    succeeded: 100,
    errors: 0,
    errorBreakdown: { connection: 0, timeouts: 0, non2xx: 0, notGraphQLSuccess: 0 },
    durationSeconds: 10,
    requestsPerSecond,
    latencyMs: { p50: 1, p95: 2, p99: 3, max: 4 },
    connections: 1,
    sentIncludingWarmup: 120,
    loadAverage: { before: 1, after: 1 },
    cpuMsPerRequest: { server: cpu, subgraphs: cpu },
  });
  const comparison = (rps: number) => ({ rounds: [measurement(rps)], requestsPerSecond: rps, serverCpuMsPerRequest: 1 });
  const base = { meta: runMeta(), skipped: {} };

  it('compares ours with the peer and the cache hit with the ceiling', () => {
    const targets = evaluateTargets({
      ...base,
      gateway: {
        storefrontOurs: comparison(300),
        storefrontHive: comparison(200),
        cacheHit: comparison(790),
        ceiling: comparison(1000),
      },
    });
    expect(targets.map((t) => [t.measured, t.met])).toEqual([
      ['1.50×', true],
      ['79%', false],
    ]);
  });

  it('requires the same statement count for every page size', () => {
    const met = (perRequest: number[][]) =>
      evaluateTargets({
        ...base,
        batching: {
          database: 'pglite',
          counts: perRequest.map((values, i) => ({
            kind: 'storefront page',
            size: [10, 50, 100][i]!,
            perRequest: values,
            statements: [],
          })),
        },
      })[0]!.met;
    // prettier-ignore
    expect(met([[3, 3], [3, 3], [3, 3]])).toBe(true);
    // prettier-ignore
    expect(met([[3, 3], [3, 3], [4, 3]])).toBe(false);
  });

  it('judges checkout only on Kafka, on both throughput and p99', () => {
    const checkout = (kafka: boolean, confirmedPerSecond: number, p99: number) => ({
      mode: kafka ? 'Kafka + PostgreSQL' : 'embedded',
      kafka,
      warmupOrders: 0,
      placed: 1,
      confirmed: 1,
      cancelled: 0,
      unsettled: 0,
      checkoutErrors: 0,
      errorMessages: {},
      confirmedPerSecond,
      latencyMs: { p50: 1, p95: 1, p99 },
      checkoutMutationMs: { p50: 1, p99: 1 },
      loadAverage: { before: 1, after: 1 },
      cpuMsPerOrder: {},
    });
    const targets = evaluateTargets({ ...base, checkout: [checkout(false, 500, 10), checkout(true, 120, 1001)] });
    expect(targets).toHaveLength(1);
    expect(targets[0]!.met).toBe(false);
  });

  it('renders a busy machine as a warning next to the figures', () => {
    const results: RunResults = {
      ...base,
      meta: { ...base.meta, loadAverage: { start: [9, 9, 9], end: [9, 9, 9] } },
      targets: [],
    };
    expect(renderMarkdown(results)).toContain('the machine was busy');
  });
});

describe('saga hops from outbox and inbox timestamps', () => {
  const row = (orderId: string, eventId: string, createdAt: number, publishedAt: number | null): OutboxTimes => ({
    orderId,
    eventId,
    createdAt,
    publishedAt,
  });

  it('splits each complete order into its hops and leaves incomplete chains out', () => {
    const hops = hopLatencies({
      // order a: every hop known; order b: its capture never arrived; order c: OrderPlaced not yet claimed.
      orderPlaced: [row('a', 'placed-a', 1000, 1004), row('b', 'placed-b', 2000, 2001), row('c', 'placed-c', 3000, null)],
      stockReserved: [row('a', 'reserved-a', 1020, 1023), row('b', 'reserved-b', 2010, 2012), row('c', 'reserved-c', 3010, 3011)],
      paymentCaptured: [row('a', 'captured-a', 1060, 1062), row('c', 'captured-c', 3020, 3021)],
      catalogProcessed: new Map([
        ['placed-a', 1015],
        ['placed-b', 2005],
        ['placed-c', 3005],
      ]),
      ordersProcessed: new Map([
        ['captured-a', 1070],
        ['captured-c', 3030],
      ]),
    });
    expect(hops.map((hop) => hop.hop)).toEqual([...HOPS]);
    // Only order a counts: 4 (relay), 11 (to catalog), 3 (relay), 37 (to the capture), 2 (relay), 8 (to orders), 70 in all.
    expect(hops.map((hop) => [hop.p50, hop.p99])).toEqual([
      [4, 4],
      [11, 11],
      [3, 3],
      [37, 37],
      [2, 2],
      [8, 8],
      [70, 70],
    ]);
  });

  it('counts only the orders it is given (the measured ones, not the warm-up)', () => {
    const times = {
      orderPlaced: [row('warm', 'placed-w', 0, 500), row('a', 'placed-a', 1000, 1004)],
      stockReserved: [row('warm', 'reserved-w', 600, 601), row('a', 'reserved-a', 1020, 1023)],
      paymentCaptured: [row('warm', 'captured-w', 700, 701), row('a', 'captured-a', 1060, 1062)],
      catalogProcessed: new Map([
        ['placed-w', 550],
        ['placed-a', 1015],
      ]),
      ordersProcessed: new Map([
        ['captured-w', 900],
        ['captured-a', 1070],
      ]),
    };
    const total = (hops: ReturnType<typeof hopLatencies>) => hops.find((hop) => hop.hop.startsWith('total'))!;
    // Both orders: the warm-up order's 900 ms is the p99.
    expect([total(hopLatencies(times)).p50, total(hopLatencies(times)).p99]).toEqual([70, 900]);
    expect([total(hopLatencies(times, new Set(['a']))).p50, total(hopLatencies(times, new Set(['a']))).p99]).toEqual([70, 70]);
  });

  it('reports no figure (NaN) when no order completed the chain', () => {
    const hops = hopLatencies({
      orderPlaced: [row('a', 'placed-a', 1000, 1004)],
      stockReserved: [],
      paymentCaptured: [],
      catalogProcessed: new Map(),
      ordersProcessed: new Map(),
    });
    expect(hops.every((hop) => Number.isNaN(hop.p50))).toBe(true);
  });
});

describe('results files', () => {
  it("keeps the day's earlier run: a second run that day gets the time in its name", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-results-'));
    try {
      const results = (date: string) => ({ meta: runMeta(date), skipped: {}, targets: [] }) as unknown as RunResults;
      const first = writeResults(results('2026-01-01T09:00:00.000Z'), '2026-01-01', '0900', dir);
      const second = writeResults(results('2026-01-01T16:25:00.000Z'), '2026-01-01', '1625', dir);
      expect(path.basename(first.markdown)).toBe('2026-01-01.md');
      expect(path.basename(second.markdown)).toBe('2026-01-01-1625.md');
      expect(readdirSync(dir).sort()).toEqual(['2026-01-01-1625.json', '2026-01-01-1625.md', '2026-01-01.json', '2026-01-01.md']);
      expect(JSON.parse(readFileSync(first.json, 'utf8')).meta.date).toBe('2026-01-01T09:00:00.000Z');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
