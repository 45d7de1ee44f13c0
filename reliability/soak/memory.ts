/**
 * Memory of each process the soak watches: RSS from /proc/<pid>/status (VmRSS), and the V8 heap in use
 * from the service's own Prometheus metrics (prom-client's `nodejs_heap_size_used_bytes`) where it has
 * them. Sampled every few seconds by the orchestrator; summarized as start / after warm-up / end / peak.
 */
import { readFileSync } from 'node:fs';

export interface WatchedProcess {
  name: string;
  pid: number;
  /** `/metrics` of the service (Node processes only). */
  metricsUrl?: string;
}

export interface MemorySample {
  /** Seconds since the sampler started. */
  atSeconds: number;
  rssMB: Record<string, number>;
  heapUsedMB: Record<string, number>;
}

export interface Figures {
  /** First sample (stack up, before any load). */
  start: number;
  /** Lowest sample of the first window after warm-up (the low of the GC sawtooth, not a random point on it). */
  afterWarmup: number;
  /** Lowest sample of the last window. */
  end: number;
  /** Last sample as read. */
  last: number;
  peak: number;
}

export interface ProcessMemory {
  name: string;
  pid: number;
  rssMB: Figures;
  heapUsedMB?: Figures;
  /** end − afterWarmup: growth once caches, JIT and pools have filled, the figure that points at a leak. */
  steadyGrowthMB: { rss: number; heapUsed?: number };
  /** Why this process's memory is flagged (empty when within the bounds). */
  flags: string[];
}

export interface GrowthBounds {
  /** Steady RSS growth (after warm-up → end) above this is flagged. */
  rssMB: number;
  /** Steady heapUsed growth above this is flagged. */
  heapUsedMB: number;
}

/** VmRSS of a process in MB, NaN when it cannot be read (gone, or no /proc). */
export function readRssMB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** `nodejs_heap_size_used_bytes` from a Prometheus text page, in MB (undefined when absent). */
export function parseHeapUsedMB(metrics: string): number | undefined {
  for (const line of metrics.split('\n')) {
    if (line.startsWith('nodejs_heap_size_used_bytes')) {
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(value)) return value / (1024 * 1024);
    }
  }
  return undefined;
}

async function fetchHeapUsedMB(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return response.ok ? parseHeapUsedMB(await response.text()) : undefined;
  } catch {
    return undefined;
  }
}

export class MemorySampler {
  readonly samples: MemorySample[] = [];
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(readonly processes: WatchedProcess[]) {}

  async sample(): Promise<MemorySample> {
    const atSeconds = (performance.now() - this.started) / 1000;
    const rssMB: Record<string, number> = {};
    for (const process of this.processes) rssMB[process.name] = readRssMB(process.pid);
    const heaps = await Promise.all(
      this.processes.map(
        async (process) => [process.name, process.metricsUrl ? await fetchHeapUsedMB(process.metricsUrl) : undefined] as const,
      ),
    );
    const heapUsedMB = Object.fromEntries(heaps.filter((entry): entry is [string, number] => entry[1] !== undefined));
    const sample = { atSeconds, rssMB, heapUsedMB };
    this.samples.push(sample);
    return sample;
  }

  /** Samples every `intervalMs` (one at a time: a slow /metrics never stacks samples up). */
  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.pending = this.pending.then(() => this.sample().then(() => undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.pending;
  }
}

/**
 * Start = first sample; after warm-up = lowest of the `window` samples from `warmupAtSeconds` on;
 * end = lowest of the last `window` samples; peak = the highest. Growth beyond the bounds is flagged.
 */
export function summarizeMemory(
  processes: WatchedProcess[],
  samples: MemorySample[],
  warmupAtSeconds: number,
  bounds: GrowthBounds,
  window = 6,
): ProcessMemory[] {
  const figures = (values: { at: number; value: number }[]): Figures | undefined => {
    const valid = values.filter((entry) => Number.isFinite(entry.value));
    if (valid.length === 0) return undefined;
    const round = (value: number) => Math.round(value * 10) / 10;
    const low = (entries: { value: number }[]) => round(Math.min(...entries.map((entry) => entry.value)));
    let warmIndex = valid.findIndex((entry) => entry.at >= warmupAtSeconds);
    if (warmIndex < 0) warmIndex = valid.length - 1;
    const size = Math.max(1, window);
    return {
      start: round(valid[0]!.value),
      afterWarmup: low(valid.slice(warmIndex, warmIndex + size)),
      end: low(valid.slice(Math.max(warmIndex, valid.length - size))),
      last: round(valid.at(-1)!.value),
      peak: round(Math.max(...valid.map((entry) => entry.value))),
    };
  };
  return processes.map((process) => {
    const rssMB = figures(
      samples.map((sample) => ({ at: sample.atSeconds, value: sample.rssMB[process.name] ?? Number.NaN })),
    ) ?? {
      start: Number.NaN,
      afterWarmup: Number.NaN,
      end: Number.NaN,
      last: Number.NaN,
      peak: Number.NaN,
    };
    const heapUsedMB = figures(
      samples.map((sample) => ({ at: sample.atSeconds, value: sample.heapUsedMB[process.name] ?? Number.NaN })),
    );
    const round = (value: number) => Math.round(value * 10) / 10;
    const steadyGrowthMB = {
      rss: round(rssMB.end - rssMB.afterWarmup),
      ...(heapUsedMB ? { heapUsed: round(heapUsedMB.end - heapUsedMB.afterWarmup) } : {}),
    };
    const flags: string[] = [];
    if (!Number.isFinite(samples.at(-1)?.rssMB[process.name] ?? Number.NaN))
      flags.push('not running at the end (RSS unreadable)');
    if (steadyGrowthMB.rss > bounds.rssMB)
      flags.push(`RSS grew ${steadyGrowthMB.rss} MB after warm-up (bound ${bounds.rssMB} MB)`);
    if (steadyGrowthMB.heapUsed !== undefined && steadyGrowthMB.heapUsed > bounds.heapUsedMB) {
      flags.push(`heapUsed grew ${steadyGrowthMB.heapUsed} MB after warm-up (bound ${bounds.heapUsedMB} MB)`);
    }
    return { name: process.name, pid: process.pid, rssMB, ...(heapUsedMB ? { heapUsedMB } : {}), steadyGrowthMB, flags };
  });
}
