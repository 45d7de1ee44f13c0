/** The soak report: its JSON shape, the checks it is judged by, and its markdown. */
import type { ProcessMemory } from './memory.ts';
import { TRAFFIC_CLASSES, type DriverResult, type OperationStats, type TrafficRates } from './spec.ts';

export interface SoakReport {
  meta: {
    date: string;
    mode: 'full' | 'embedded';
    /** What the services ran on, e.g. "PostgreSQL 127.0.0.1:5432 (fresh databases), Kafka 127.0.0.1:9092, ...". */
    stack: string;
    cores: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    durationSeconds: number;
    rates: TrafficRates;
    customers: number;
    sampleIntervalSeconds: number;
    warmupSeconds: number;
    bounds: { rssGrowthMB: number; heapGrowthMB: number; errorRate: number };
    loadAverage: { start: number[]; end: number[]; peak1m: number };
    command: string;
    /** Wall-clock seconds of the whole run, stack start to stop. */
    wallSeconds: number;
  };
  traffic: DriverResult;
  processes: ProcessMemory[];
  /** Every sample taken, for plotting (seconds since the stack was up; MB). */
  samples: { atSeconds: number; rssMB: Record<string, number>; heapUsedMB: Record<string, number> }[];
  checks: { name: string; ok: boolean; detail: string }[];
}

export function evaluateChecks(
  traffic: DriverResult,
  processes: ProcessMemory[],
  bounds: SoakReport['meta']['bounds'],
): SoakReport['checks'] {
  const checks: SoakReport['checks'] = [];
  for (const name of TRAFFIC_CLASSES) {
    const stats = traffic.classes[name];
    checks.push({
      name: `${name} error rate ≤ ${(bounds.errorRate * 100).toFixed(1)}%`,
      ok: stats.requests > 0 && stats.errorRate <= bounds.errorRate,
      detail: `${stats.errors} of ${stats.requests} (${(stats.errorRate * 100).toFixed(2)}%)${codes(stats.errorsByCode)}`,
    });
  }
  const orders = traffic.orders;
  checks.push({
    name: 'every order settled (CONFIRMED or CANCELLED)',
    ok: orders.placed > 0 && orders.stuck === 0 && orders.confirmed + orders.cancelled === orders.placed,
    detail: `${orders.placed} placed: ${orders.confirmed} confirmed, ${orders.cancelled} cancelled, ${orders.stuck} stuck`,
  });
  checks.push({
    name: 'a retried checkout returns the same order',
    ok: orders.idempotencyMismatches === 0,
    detail: `${orders.idempotentRetries} retries, ${orders.idempotencyMismatches} returned another order`,
  });
  for (const process of processes) {
    checks.push({
      name: `${process.name} memory within bounds`,
      ok: process.flags.length === 0,
      detail:
        process.flags.join('; ') ||
        `RSS ${signed(process.steadyGrowthMB.rss)} MB${process.steadyGrowthMB.heapUsed !== undefined ? `, heapUsed ${signed(process.steadyGrowthMB.heapUsed)} MB` : ''} after warm-up`,
    });
  }
  return checks;
}

const codes = (byCode: Record<string, number>) => {
  const entries = Object.entries(byCode).sort((a, b) => b[1] - a[1]);
  return entries.length ? ` — ${entries.map(([code, count]) => `${code} ${count}`).join(', ')}` : '';
};
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : '–');
const mb = (value: number | undefined) => (value !== undefined && Number.isFinite(value) ? value.toFixed(0) : '–');
const signed = (value: number | undefined) => {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const whole = Math.round(value);
  return whole === 0 ? '±0' : `${whole > 0 ? '+' : ''}${whole}`;
};

export function renderMarkdown(report: SoakReport): string {
  const { meta, traffic } = report;
  const lines: string[] = [];
  const failed = report.checks.filter((check) => !check.ok);
  lines.push(
    `# Soak: ${meta.mode} mode, ${formatDuration(meta.durationSeconds)}, ${meta.date.slice(0, 16).replace('T', ' ')} UTC`,
  );
  lines.push('');
  lines.push(
    `${meta.stack}. ${meta.cores} cores (${meta.cpuModel}), ${meta.memoryGiB} GiB, Node ${meta.node}. ` +
      `Load average (1 min) ${meta.loadAverage.start[0]!.toFixed(2)} at the start, ${meta.loadAverage.end[0]!.toFixed(2)} at the end, ` +
      `peak ${meta.loadAverage.peak1m.toFixed(2)} — the machine is shared, so latencies include other work.`,
  );
  lines.push('');
  lines.push(
    `Traffic at a fixed rate: storefront ${meta.rates.storefrontPerSecond}/s, ${meta.rates.checkoutsPerMinute} customer sessions/min ` +
      `(${meta.customers} customers), ${meta.rates.adminActionsPerMinute} admin actions/min; ${traffic.loadSeconds.toFixed(0)} s of load (the last in-flight sessions included), ` +
      `then ${traffic.settleSeconds.toFixed(0)} s following the last orders. Command: \`${meta.command}\`.`,
  );
  lines.push('');
  lines.push(
    failed.length === 0
      ? '**All checks passed.**'
      : `**${failed.length} check(s) failed:** ${failed.map((check) => check.name).join('; ')}.`,
  );
  lines.push('');
  lines.push('## Traffic');
  lines.push('');
  lines.push(
    '| Class | Requests | Errors | Error rate | p50 ms | p95 ms | p99 ms | max ms | Dropped ticks | Errors by code | Expected business answers |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |');
  for (const name of TRAFFIC_CLASSES) {
    const stats = traffic.classes[name];
    lines.push(
      `| ${name} | ${stats.requests} | ${stats.errors} | ${(stats.errorRate * 100).toFixed(2)}% | ${ms(stats.latencyMs.p50)} | ${ms(stats.latencyMs.p95)} | ${ms(stats.latencyMs.p99)} | ${ms(stats.latencyMs.max)} | ${stats.dropped} | ${codeCell(stats.errorsByCode)} | ${codeCell(stats.expectedByCode)} |`,
    );
  }
  lines.push('');
  lines.push('<details><summary>Per operation</summary>');
  lines.push('');
  lines.push('| Class | Operation | Requests | Errors | p50 ms | p99 ms | Errors by code |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | --- |');
  for (const name of TRAFFIC_CLASSES) {
    for (const [operation, stats] of Object.entries(traffic.classes[name].operations) as [string, OperationStats][]) {
      lines.push(
        `| ${name} | ${operation} | ${stats.requests} | ${stats.errors} | ${ms(stats.latencyMs.p50)} | ${ms(stats.latencyMs.p99)} | ${codeCell(stats.errorsByCode)} |`,
      );
    }
  }
  lines.push('');
  lines.push('</details>');
  lines.push('');
  const orders = traffic.orders;
  lines.push('## Orders');
  lines.push('');
  lines.push(
    '| Placed | Confirmed | Cancelled | Stuck | checkout→CONFIRMED p50 ms | p95 ms | p99 ms | max ms | Idempotent retries (mismatches) |',
  );
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  lines.push(
    `| ${orders.placed} | ${orders.confirmed} | ${orders.cancelled} | ${orders.stuck} | ${ms(orders.checkoutToConfirmedMs.p50)} | ${ms(orders.checkoutToConfirmedMs.p95)} | ${ms(orders.checkoutToConfirmedMs.p99)} | ${ms(orders.checkoutToConfirmedMs.max)} | ${orders.idempotentRetries} (${orders.idempotencyMismatches}) |`,
  );
  lines.push('');
  lines.push(
    "checkout→CONFIRMED is measured from the order's own status history (server timestamps of the PENDING and CONFIRMED entries).",
  );
  lines.push('');
  lines.push('## Memory per process');
  lines.push('');
  lines.push(
    `Sampled every ${meta.sampleIntervalSeconds} s: RSS from \`/proc/<pid>/status\` (VmRSS), heapUsed from the service's \`/metrics\` ` +
      `(\`nodejs_heap_size_used_bytes\`). Start = stack up, before load; after warm-up = lowest sample in the first window after ` +
      `${meta.warmupSeconds} s of load; end = lowest sample in the last window (lows of the GC sawtooth, not random points on it). ` +
      `Flagged: RSS growth after warm-up > ${meta.bounds.rssGrowthMB} MB or heapUsed growth > ${meta.bounds.heapGrowthMB} MB.`,
  );
  lines.push('');
  lines.push(
    '| Process | RSS start MB | after warm-up | end | peak | growth after warm-up | heapUsed start MB | after warm-up | end | peak | growth after warm-up | Flag |',
  );
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const process of report.processes) {
    const heap = process.heapUsedMB;
    lines.push(
      `| ${process.name} | ${mb(process.rssMB.start)} | ${mb(process.rssMB.afterWarmup)} | ${mb(process.rssMB.end)} | ${mb(process.rssMB.peak)} | ${signed(process.steadyGrowthMB.rss)} | ${mb(heap?.start)} | ${mb(heap?.afterWarmup)} | ${mb(heap?.end)} | ${mb(heap?.peak)} | ${signed(process.steadyGrowthMB.heapUsed)} | ${process.flags.length ? '⚠ ' + process.flags.join('; ') : 'ok'} |`,
    );
  }
  lines.push('');
  lines.push('## Checks');
  lines.push('');
  lines.push('| Check | Result | Detail |');
  lines.push('| --- | --- | --- |');
  for (const check of report.checks) lines.push(`| ${check.name} | ${check.ok ? 'ok' : '**failed**'} | ${check.detail} |`);
  lines.push('');
  return lines.join('\n');
}

function codeCell(byCode: Record<string, number>): string {
  const entries = Object.entries(byCode).sort((a, b) => b[1] - a[1]);
  return entries.length ? entries.map(([code, count]) => `${code} ${count}`).join(', ') : '–';
}

export function formatDuration(seconds: number): string {
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
