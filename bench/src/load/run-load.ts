/**
 * Runs one bounded load from a separate process (the load worker) and adds what the orchestrator sees
 * around it: the machine's load average, and how many requests each subgraph served meanwhile (from the
 * subgraphs' own /metrics), so every figure says which subgraphs a gateway request really touched.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCH_DIR, readyLine, spawnNode } from '../processes.ts';
import { SUBGRAPHS, type SubgraphName, type SubgraphUrls } from '../stack/stack.ts';
import type { LoadResult, LoadSpec } from './load-spec.ts';

export interface Measurement extends LoadResult {
  label: string;
  /** Requests each subgraph served during warm-up and measurement, per gateway request. */
  subgraphRequestsPerRequest?: Record<SubgraphName, number>;
  loadAverage: { before: number; after: number };
  /**
   * CPU time (user + system) the measured processes spent per answered request, warm-up included —
   * far less sensitive to other work on a shared machine than req/s.
   */
  cpuMsPerRequest?: Record<string, number>;
}

export interface LoadSettings {
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

let sequence = 0;

export async function runLoad(
  label: string,
  target: { url: string; body: string; headers?: Record<string, string> },
  settings: LoadSettings,
  /** The subgraphs' management base URLs (`Subgraphs.management`): their /metrics count the requests each served. */
  subgraphs?: SubgraphUrls,
  /** Processes whose CPU time to measure: a name for each group of PIDs (e.g. the gateway, the subgraphs). */
  processes: Record<string, number[]> = {},
): Promise<Measurement> {
  const specDir = path.join(BENCH_DIR, 'results', 'work.tmp');
  mkdirSync(specDir, { recursive: true });
  const specFile = path.join(specDir, `load-${++sequence}.json`);
  const spec: LoadSpec = { ...target, ...settings };
  writeFileSync(specFile, JSON.stringify(spec));

  const before = subgraphs ? await subgraphRequestCounts(subgraphs) : undefined;
  const loadBefore = os.loadavg()[0]!;
  const cpuBefore = Object.fromEntries(Object.entries(processes).map(([name, pids]) => [name, sum(pids.map(cpuMillis))]));
  process.stdout.write(
    `  ${label}: ${settings.warmupSeconds}s warm-up + ${settings.durationSeconds}s, ${settings.connections} connections ... `,
  );
  const ready = readyLine<{ result: LoadResult }>('load');
  const worker = spawnNode('load', { args: ['bench/src/load/load-worker.ts', specFile], onLine: ready.onLine });
  let result: LoadResult;
  try {
    ({ result } = await ready.ready(worker));
  } finally {
    await worker.stop();
  }
  const loadAfter = os.loadavg()[0]!;
  const cpuAfter = Object.fromEntries(Object.entries(processes).map(([name, pids]) => [name, sum(pids.map(cpuMillis))]));
  const measurement: Measurement = { label, ...result, loadAverage: { before: loadBefore, after: loadAfter } };
  const answered = result.sentIncludingWarmup;
  if (Object.keys(processes).length > 0 && answered > 0) {
    measurement.cpuMsPerRequest = Object.fromEntries(
      Object.keys(processes).map((name) => [name, (cpuAfter[name]! - cpuBefore[name]!) / answered]),
    );
  }
  if (subgraphs && before) {
    const after = await subgraphRequestCounts(subgraphs);
    // Requests still in flight when autocannon stopped were served too: count what was sent.
    const total = result.sentIncludingWarmup;
    measurement.subgraphRequestsPerRequest = Object.fromEntries(
      SUBGRAPHS.map((name) => [name, total > 0 ? (after[name] - before[name]) / total : 0]),
    ) as Record<SubgraphName, number>;
  }
  const cpu = measurement.cpuMsPerRequest
    ? `, CPU ms/request ${Object.entries(measurement.cpuMsPerRequest)
        .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
        .join(', ')}`
    : '';
  process.stdout.write(
    `${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms, ${result.errors} errors${cpu}\n`,
  );
  return measurement;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU time (user + system) of a process so far, from /proc; NaN where /proc is not available. */
export function cpuMillis(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time of the whole local PostgreSQL server so far: every live `postgres` process (postmaster and
 * backends) plus what the postmaster's exited children used. NaN when no server runs here. The server may
 * serve others on a shared machine: a figure for this machine, not for one database.
 */
export function postgresCpuMillis(): number {
  const processes: { pid: number; ppid: number; own: number; children: number }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      processes.push({
        pid: Number(entry),
        ppid: Number(fields[1]),
        own: Number(fields[11]) + Number(fields[12]),
        children: Number(fields[13]) + Number(fields[14]),
      });
    } catch {
      // The process ended while we looked.
    }
  }
  if (processes.length === 0) return Number.NaN;
  // Reaped children's time is taken from the root (the postmaster, which reaps the backends) only.
  const pids = new Set(processes.map((process) => process.pid));
  const ticks = processes.reduce((sum, process) => sum + process.own + (pids.has(process.ppid) ? 0 : process.children), 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/**
 * GraphQL requests each subgraph has served so far (`http_request_duration_seconds_count` for /graphql),
 * from the /metrics of its management base URL (`Subgraphs.management`).
 */
export async function subgraphRequestCounts(management: SubgraphUrls): Promise<Record<SubgraphName, number>> {
  const entries = await Promise.all(
    SUBGRAPHS.map(async (name) => {
      const response = await fetch(`${management[name]}/metrics`);
      const text = await response.text();
      let count = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith('http_request_duration_seconds_count{') && line.includes('route="/graphql"')) {
          count += Number(line.slice(line.lastIndexOf(' ') + 1));
        }
      }
      return [name, count] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<SubgraphName, number>;
}
