/** What the orchestrator asks the load worker to do, and what it answers. */
export interface LoadSpec {
  url: string;
  body: string;
  headers?: Record<string, string>;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
}

export interface LoadResult {
  /** Responses received. */
  requests: number;
  /** 2xx responses whose body is a GraphQL success. */
  succeeded: number;
  errors: number;
  errorBreakdown: { connection: number; timeouts: number; non2xx: number; notGraphQLSuccess: number };
  durationSeconds: number;
  /** Successful responses per second. */
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  connections: number;
  /** Requests sent during warm-up and measurement, answered or still in flight when each run stopped. */
  sentIncludingWarmup: number;
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
