/** Writes a run's figures as `bench/results/<date>.json` and a readable `bench/results/<date>.md`. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH_DIR } from './processes.ts';
import type { Measurement } from './load/run-load.ts';
import type { Comparison, GatewayScenarioResults } from './scenarios/gateway-scenarios.ts';
import type { StatementCount } from './scenarios/sql-statements-worker.ts';
import type { CheckoutResult } from './scenarios/checkout.ts';

export interface RunMeta {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  loadAverage: { start: number[]; end: number[] };
  subgraphMode?: string;
  /** Where our gateway keeps its response cache, APQ and rate-limit counters. */
  gatewayStore?: 'memory' | 'Redis';
  settings: { connections: number; warmupSeconds: number; durationSeconds: number; rounds: number; pageSize: number };
  /** Extra settings our gateway ran with (`--gateway-env`), e.g. an optimisation switched off. */
  gatewayEnv: Record<string, string>;
  /** Extra Node flags our gateway ran with (`--gateway-node-flag`). */
  gatewayNodeFlags?: string[];
  command: string;
  durationSeconds: number;
}

export interface RunResults {
  meta: RunMeta;
  gateway?: GatewayScenarioResults;
  batching?: { database: string; counts: StatementCount[] };
  checkout?: CheckoutResult[];
  /** Why a selected scenario did not run (e.g. a feature that has not landed). */
  skipped: Record<string, string>;
  targets: Target[];
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean | null;
}

const fixed = (value: number | undefined, digits = 1) =>
  value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

export function evaluateTargets(results: Omit<RunResults, 'targets'>): Target[] {
  const targets: Target[] = [];
  const g = results.gateway;
  if (g?.storefrontOurs && g.storefrontHive) {
    const ratio = g.storefrontOurs.requestsPerSecond / g.storefrontHive.requestsPerSecond;
    targets.push({
      name: 'uncached storefront: ours / Hive Gateway',
      goal: '≥ 1.5×',
      measured: `${ratio.toFixed(2)}×`,
      met: ratio >= 1.5,
    });
  }
  const hitRatio = (name: string, hit?: Comparison, ceiling?: Comparison) => {
    if (!hit || !ceiling) return;
    const ratio = hit.requestsPerSecond / ceiling.requestsPerSecond;
    targets.push({ name, goal: '≥ 80%', measured: `${(ratio * 100).toFixed(0)}%`, met: ratio >= 0.8 });
  };
  hitRatio('cache hit / bare-HTTP ceiling (same response bytes: headers and body)', g?.cacheHit, g?.ceiling);
  hitRatio('cache hit via APQ hash / ceiling (for information)', g?.cacheHitPersisted, g?.ceiling);
  hitRatio('cache hit / a ceiling sending the body with two headers only (for information)', g?.cacheHit, g?.ceilingBodyOnly);
  if (g?.mobileSequential) {
    const { requests, subgraphRequests: calls } = g.mobileSequential;
    const others = calls.users + calls.orders + calls.billing;
    targets.push({
      name: 'mobile minimal query touches only catalog',
      goal: `${requests} requests one at a time → catalog ${requests}, others 0`,
      measured: `catalog ${calls.catalog}, users ${calls.users}, orders ${calls.orders}, billing ${calls.billing}`,
      met: calls.catalog === requests && others === 0,
    });
  }
  if (results.batching) {
    for (const kind of ['storefront page', '_entities'] as const) {
      const rows = results.batching.counts.filter((count) => count.kind === kind);
      const all = rows.flatMap((row) => row.perRequest);
      if (all.length === 0) continue;
      targets.push({
        name: `SQL statements per request constant across sizes (${kind})`,
        goal: 'same count for 10, 50, 100',
        measured: rows.map((row) => `${row.size}: ${row.perRequest.join('/')}`).join(', '),
        met: all.every((count) => count === all[0]),
      });
    }
  }
  for (const checkout of results.checkout ?? []) {
    if (!checkout.kafka) continue;
    targets.push({
      name: `checkout → CONFIRMED on ${checkout.mode}`,
      goal: '≥ 100 orders/s, p99 ≤ 1 s',
      measured: `${checkout.confirmedPerSecond.toFixed(1)} orders/s, p99 ${fixed(checkout.latencyMs.p99, 0)} ms`,
      met: checkout.confirmedPerSecond >= 100 && checkout.latencyMs.p99 <= 1000,
    });
  }
  return targets;
}

function loadRow(scenario: string, m: Measurement, note = ''): string {
  const per = m.subgraphRequestsPerRequest;
  const subgraphCalls = per
    ? Object.entries(per)
        .filter(([, value]) => value > 0)
        .map(([name, value]) => `${name} ${value.toFixed(value < 0.01 ? 4 : 2)}`)
        .join(', ') || 'none'
    : '–';
  const cpu = m.cpuMsPerRequest;
  return `| ${scenario} | ${m.label} | ${fixed(m.requestsPerSecond, 0)} | ${fixed(m.latencyMs.p50)} | ${fixed(m.latencyMs.p95)} | ${fixed(
    m.latencyMs.p99,
  )} | ${m.errors} | ${subgraphCalls} | ${fixed(cpu?.server, 2)} | ${fixed(cpu?.subgraphs, 2)} | ${fixed(m.loadAverage.before, 1)} → ${fixed(
    m.loadAverage.after,
    1,
  )} | ${note} |`;
}

export function renderMarkdown(results: RunResults): string {
  const { meta } = results;
  const lines: string[] = [
    `# Benchmark run ${meta.date}`,
    '',
    `- Machine: ${meta.cores} cores (${meta.cpuModel}), ${meta.memoryGiB} GiB, ${meta.platform}; Node ${meta.node}`,
    `- Load average (1/5/15 min) at start: ${meta.loadAverage.start.map((v) => v.toFixed(2)).join(' / ')}; at end: ${meta.loadAverage.end
      .map((v) => v.toFixed(2))
      .join(
        ' / ',
      )}${meta.loadAverage.start[0]! > meta.cores ? ' — **the machine was busy: treat the figures as rough and rerun**' : ''}`,
    `- Subgraphs: ${meta.subgraphMode ?? '–'}; our gateway's cache, APQ and rate limits: ${meta.gatewayStore ?? 'memory'}; load: autocannon in its own process, ${meta.settings.connections} connections, ${meta.settings.warmupSeconds} s warm-up + ${meta.settings.durationSeconds} s per measurement, ${meta.settings.rounds} alternating round(s) for each comparison; page size ${meta.settings.pageSize}`,
    `- Command: \`${meta.command}\` (${Math.round(meta.durationSeconds)} s)`,
    ...(Object.keys(meta.gatewayEnv).length > 0
      ? [
          `- Our gateway ran with: ${Object.entries(meta.gatewayEnv)
            .map(([key, value]) => `\`${key}=${value}\``)
            .join(', ')}`,
        ]
      : []),
    '',
  ];

  if (results.targets.length > 0) {
    lines.push('## Targets', '', '| target | goal | measured | met |', '| --- | --- | --- | --- |');
    for (const t of results.targets)
      lines.push(`| ${t.name} | ${t.goal} | ${t.measured} | ${t.met === null ? '–' : t.met ? 'yes' : '**no**'} |`);
    lines.push('');
  }

  const g = results.gateway;
  if (g) {
    lines.push(
      '## Gateway throughput and latency',
      '',
      'req/s counts only 2xx responses whose body is a GraphQL success; errors are failed connections, timeouts, non-2xx and error bodies. "Subgraph requests per request" comes from the subgraphs\' own `/metrics`; "CPU ms/req" is the user+system CPU time of the server under test (gateway or ceiling) and of the subgraph processes, from /proc, divided by the requests sent (both with the warm-up included). On a shared machine the CPU figures are the steadier comparison; req/s moves with whatever else runs.',
      '',
      '| scenario | run | req/s | p50 ms | p95 ms | p99 ms | errors | subgraph requests per request | server CPU ms/req | subgraphs CPU ms/req | load avg | note |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | --- |',
    );
    for (const m of g.storefrontOurs?.rounds ?? []) lines.push(loadRow('1 storefront, ours, uncached', m));
    for (const m of g.storefrontHive?.rounds ?? []) lines.push(loadRow('2 storefront, Hive Gateway', m));
    for (const m of g.cacheHit?.rounds ?? []) lines.push(loadRow('3 storefront, ours, cache hit', m));
    for (const m of g.cacheHitPersisted?.rounds ?? [])
      lines.push(loadRow('3 storefront, ours, cache hit via APQ', m, 'hash only'));
    for (const m of g.ceiling?.rounds ?? [])
      lines.push(loadRow('3 ceiling: bare node:http, same bytes', m, `${g.ceilingHeaderCount ?? '?'} headers + body`));
    for (const m of g.ceilingBodyOnly?.rounds ?? [])
      lines.push(loadRow('3 bare node:http, same body only', m, '2 headers + body'));
    if (g.mobile) lines.push(loadRow('4 mobile minimal (ids, names)', g.mobile));
    lines.push('');
    if (g.mobileSequential) {
      const { requests, subgraphRequests: calls } = g.mobileSequential;
      lines.push(
        `Scenario 4, one request at a time (no concurrent identical subgraph calls to share): ${requests} gateway requests caused ${Object.entries(
          calls,
        )
          .map(([name, count]) => `${name} ${count}`)
          .join(
            ', ',
          )} subgraph requests. Under load, identical catalog calls in flight together are shared (\`SUBGRAPH_DEDUPE_QUERIES\`), hence fewer than one per request above.`,
        '',
      );
    }
    const ratios: string[] = [];
    if (g.storefrontOurs && g.storefrontHive) {
      ratios.push(
        `- Uncached storefront, ours / Hive Gateway: ${fixed(g.storefrontOurs.requestsPerSecond, 0)} / ${fixed(
          g.storefrontHive.requestsPerSecond,
          0,
        )} req/s = **${(g.storefrontOurs.requestsPerSecond / g.storefrontHive.requestsPerSecond).toFixed(2)}×** (means of the rounds); gateway CPU per request: ours ${fixed(
          g.storefrontOurs.serverCpuMsPerRequest,
          2,
        )} ms, Hive ${fixed(g.storefrontHive.serverCpuMsPerRequest, 2)} ms (Hive/ours = ${(
          g.storefrontHive.serverCpuMsPerRequest / g.storefrontOurs.serverCpuMsPerRequest
        ).toFixed(2)}×)`,
      );
    }
    if (g.cacheHit && g.ceiling) {
      ratios.push(
        `- Cache hit / ceiling: ${fixed(g.cacheHit.requestsPerSecond, 0)} / ${fixed(g.ceiling.requestsPerSecond, 0)} req/s = **${(
          (100 * g.cacheHit.requestsPerSecond) /
          g.ceiling.requestsPerSecond
        ).toFixed(0)}%** (CPU per request: hit ${fixed(g.cacheHit.serverCpuMsPerRequest, 3)} ms, ceiling ${fixed(
          g.ceiling.serverCpuMsPerRequest,
          3,
        )} ms)${
          g.cacheHitPersisted
            ? `; via APQ hash ${fixed(g.cacheHitPersisted.requestsPerSecond, 0)} req/s = ${(
                (100 * g.cacheHitPersisted.requestsPerSecond) /
                g.ceiling.requestsPerSecond
              ).toFixed(0)}%`
            : ''
        }`,
      );
    }
    if (g.cacheHit && g.ceilingBodyOnly) {
      ratios.push(
        `- Against a bare server sending the body with only content type and length: ${fixed(g.ceilingBodyOnly.requestsPerSecond, 0)} req/s, hit = ${(
          (100 * g.cacheHit.requestsPerSecond) /
          g.ceilingBodyOnly.requestsPerSecond
        ).toFixed(
          0,
        )}% (CPU per request ${fixed(g.ceilingBodyOnly.serverCpuMsPerRequest, 3)} ms): the difference to the ceiling above is the cost of the header block alone`,
      );
    }
    if (g.responseBytes && Object.keys(g.responseBytes).length > 0) {
      ratios.push(
        `- Response size: ${Object.entries(g.responseBytes)
          .map(([name, bytes]) => `${name} ${bytes} B`)
          .join(', ')}`,
      );
    }
    if (ratios.length > 0) lines.push(...ratios, '');
  }

  if (results.batching) {
    lines.push(
      `## Batching: SQL statements per request (catalog on ${results.batching.database})`,
      '',
      "Counted with `countStatements` (packages/testkit) around the catalog's Prisma adapter; the outbox relay's polling and transaction brackets are excluded. Storefront pages go through our gateway; `_entities` calls go straight to the catalog, as the gateway's query planner sends them.",
      '',
      '| request | size | statements per request (each repetition) | statements |',
      '| --- | ---: | --- | --- |',
    );
    for (const count of results.batching.counts) {
      lines.push(
        `| ${count.kind} | ${count.size} | ${count.perRequest.join(', ')} | ${count.statements.map((sql) => `\`${sql.replace(/\|/g, '\\|')}\``).join('<br>')} |`,
      );
    }
    lines.push('');
  }

  if (results.checkout && results.checkout.length > 0) {
    lines.push(
      '## Checkout flow: orders reaching CONFIRMED',
      '',
      'checkout → CONFIRMED latency is measured per order from its status history (the PENDING entry the checkout wrote, the CONFIRMED entry the saga wrote); confirmed/s is confirmed orders over the time from the first checkout to the last confirmation.' +
        warmupSentence(results.checkout),
      '',
      '| mode | orders placed | checkout errors | confirmed | cancelled | still PENDING | confirmed/s | checkout→CONFIRMED p50 ms | p95 ms | p99 ms | checkout mutation p50 / p99 ms | load avg |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    );
    for (const c of results.checkout) {
      lines.push(
        `| ${c.mode} | ${c.placed} | ${c.checkoutErrors} | ${c.confirmed} | ${c.cancelled} | ${c.unsettled} | ${fixed(c.confirmedPerSecond)} | ${fixed(
          c.latencyMs.p50,
          0,
        )} | ${fixed(c.latencyMs.p95, 0)} | ${fixed(c.latencyMs.p99, 0)} | ${fixed(c.checkoutMutationMs.p50, 0)} / ${fixed(
          c.checkoutMutationMs.p99,
          0,
        )} | ${fixed(c.loadAverage.before)} → ${fixed(c.loadAverage.after)} |`,
      );
    }
    lines.push('');
    for (const c of results.checkout) {
      const cpu = Object.entries(c.cpuMsPerOrder ?? {});
      if (cpu.length > 0) {
        lines.push(`- ${c.mode}, CPU ms per order: ${cpu.map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(', ')}`);
      }
      const idle = Object.entries(c.idleCpuMsPerSecond ?? {});
      if (idle.length > 0) {
        lines.push(
          `- ${c.mode}, idle CPU ms per second before the load: ${idle.map(([name, ms]) => `${name} ${ms.toFixed(0)}`).join(', ')}`,
        );
      }
      const transactions = Object.entries(c.transactionsPerOrder ?? {});
      if (transactions.length > 0) {
        lines.push(
          `- ${c.mode}, PostgreSQL transactions committed per order: ${transactions
            .map(([name, count]) => `${name} ${count.toFixed(1)}`)
            .join(', ')}`,
        );
      }
      for (const [message, count] of Object.entries(c.errorMessages ?? {})) lines.push(`- ${c.mode}: ${count}× \`${message}\``);
    }
    lines.push('');
    for (const c of results.checkout) {
      if (!c.sagaHopsMs || c.sagaHopsMs.length === 0) continue;
      lines.push(
        `Where checkout → CONFIRMED goes (${c.mode}), from the outbox and inbox timestamps in the services' databases (transaction starts; "claimed" is the start of the relay's round, before the broker's ack):`,
        '',
        '| hop | p50 ms | p95 ms | p99 ms |',
        '| --- | ---: | ---: | ---: |',
        ...c.sagaHopsMs.map((hop) => `| ${hop.hop} | ${fixed(hop.p50, 0)} | ${fixed(hop.p95, 0)} | ${fixed(hop.p99, 0)} |`),
        '',
      );
    }
  }

  const skipped = Object.entries(results.skipped);
  if (skipped.length > 0) {
    lines.push('## Not measured in this run', '');
    for (const [scenario, reason] of skipped) lines.push(`- ${scenario}: ${reason}`);
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * Writes both files; returns their paths. A run on a day that already has a results file gets the time
 * (`timeSuffix`, e.g. `1625`) added to its name instead of replacing that day's earlier run.
 */
export function writeResults(
  results: RunResults,
  name: string,
  timeSuffix: string,
  dir = path.join(BENCH_DIR, 'results'),
): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const taken = (base: string) => existsSync(path.join(dir, `${base}.json`)) || existsSync(path.join(dir, `${base}.md`));
  const base = taken(name) ? `${name}-${timeSuffix}` : name;
  const json = path.join(dir, `${base}.json`);
  const markdown = path.join(dir, `${base}.md`);
  writeFileSync(json, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(markdown, renderMarkdown(results) + '\n');
  return { json, markdown };
}

/** Says how many warm-up orders each run placed and settled before measuring (none in runs before 2026-12-06). */
function warmupSentence(runs: CheckoutResult[]): string {
  const counts = [...new Set(runs.map((run) => run.warmupOrders ?? 0))];
  if (counts.length === 1 && counts[0] === 0) return '';
  return ` Before measuring, each run placed ${counts.join(' / ')} warm-up orders the same way and let them settle; they are counted nowhere (not in the CPU, SQL or hop figures either).`;
}
