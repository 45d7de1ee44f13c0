/**
 * What the soak orchestrator asks the traffic driver to do, what the driver answers, and the small
 * arithmetic both sides share (duration parsing, per-class statistics).
 */
import { percentile } from '../../bench/src/load/load-spec.ts';

export const TRAFFIC_CLASSES = ['storefront', 'customers', 'admin'] as const;
export type TrafficClass = (typeof TRAFFIC_CLASSES)[number];

export interface TrafficRates {
  /** Anonymous storefront requests per second (listing pages, search, product detail). */
  storefrontPerSecond: number;
  /** Customer sessions started per minute: login, cart, add to cart, checkout, my orders. */
  checkoutsPerMinute: number;
  /** Admin actions per minute, in turn: create product, update product, add stock, list orders, ship. */
  adminActionsPerMinute: number;
}

export interface DriverSpec {
  url: string;
  durationSeconds: number;
  rates: TrafficRates;
  /** Customer accounts registered before the load starts (sessions rotate over them). */
  customers: number;
  /** How long an order may stay PENDING before it counts as stuck. */
  settleTimeoutSeconds: number;
  /** Requests one class may have in flight; a tick beyond that is dropped (and counted), not queued. */
  maxInFlightPerClass: number;
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface OperationStats {
  requests: number;
  /** Failed requests: HTTP non-2xx, connection failures and timeouts, GraphQL errors that are not expected. */
  errors: number;
  /** Failures by code: a GraphQL `extensions.code`, `HTTP_<status>`, `TIMEOUT`, `NETWORK`, `NO_DATA`, ... */
  errorsByCode: Record<string, number>;
  /** Expected business answers (e.g. CONFLICT for a stale product version), by code; not failures. */
  expectedByCode: Record<string, number>;
  /** Latency of every request, answered or failed (ms). */
  latencyMs: Percentiles;
}

export interface ClassStats extends OperationStats {
  errorRate: number;
  /** Ticks skipped because the class already had `maxInFlightPerClass` requests in flight. */
  dropped: number;
  operations: Record<string, OperationStats>;
}

export interface OrderStats {
  placed: number;
  confirmed: number;
  cancelled: number;
  /** Still PENDING when the settle timeout ran out (or could not be read back). */
  stuck: number;
  /** Checkout (PENDING entry) → CONFIRMED, from the order's own status history (server timestamps). */
  checkoutToConfirmedMs: Percentiles;
  /** Checkouts sent a second time with the same idempotency key, and how many returned another order. */
  idempotentRetries: number;
  idempotencyMismatches: number;
}

export interface DriverResult {
  startedAt: string;
  /** Seconds of load: ticks for the duration, then the sessions still in flight; the follow-up of the last orders comes after. */
  loadSeconds: number;
  /** Seconds spent after the load following the last orders to CONFIRMED / CANCELLED. */
  settleSeconds: number;
  classes: Record<TrafficClass, ClassStats>;
  orders: OrderStats;
}

/** "10m", "90s", "1h", "600" (seconds) → seconds; bounded to (0, 6 h]. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!match) throw new Error(`SOAK_DURATION: "${text}" is not a duration such as 90s, 10m or 1h`);
  const value = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  const seconds = unit === 'ms' ? value / 1000 : unit === 'm' ? value * 60 : unit === 'h' ? value * 3600 : value;
  if (!(seconds > 0) || seconds > 6 * 3600) throw new Error(`SOAK_DURATION: ${text} is outside (0, 6h]`);
  return seconds;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

/** Collects one operation's outcomes. */
export class OperationRecorder {
  requests = 0;
  errors = 0;
  readonly errorsByCode: Record<string, number> = {};
  readonly expectedByCode: Record<string, number> = {};
  readonly latencies: number[] = [];

  record(latencyMs: number, outcome: { error?: string; expected?: string }): void {
    this.requests++;
    this.latencies.push(latencyMs);
    if (outcome.error) {
      this.errors++;
      this.errorsByCode[outcome.error] = (this.errorsByCode[outcome.error] ?? 0) + 1;
    } else if (outcome.expected) {
      this.expectedByCode[outcome.expected] = (this.expectedByCode[outcome.expected] ?? 0) + 1;
    }
  }

  stats(): OperationStats {
    return {
      requests: this.requests,
      errors: this.errors,
      errorsByCode: { ...this.errorsByCode },
      expectedByCode: { ...this.expectedByCode },
      latencyMs: percentiles(this.latencies),
    };
  }
}

/** One class's figures from its operations' recorders. */
export function classStats(operations: Map<string, OperationRecorder>, dropped: number): ClassStats {
  const merged = new OperationRecorder();
  for (const recorder of operations.values()) {
    merged.requests += recorder.requests;
    merged.errors += recorder.errors;
    merged.latencies.push(...recorder.latencies);
    for (const [code, count] of Object.entries(recorder.errorsByCode))
      merged.errorsByCode[code] = (merged.errorsByCode[code] ?? 0) + count;
    for (const [code, count] of Object.entries(recorder.expectedByCode))
      merged.expectedByCode[code] = (merged.expectedByCode[code] ?? 0) + count;
  }
  const stats = merged.stats();
  return {
    ...stats,
    errorRate: stats.requests > 0 ? stats.errors / stats.requests : 0,
    dropped,
    operations: Object.fromEntries([...operations].map(([name, recorder]) => [name, recorder.stats()])),
  };
}
