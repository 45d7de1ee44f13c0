/**
 * Child process: the load generator. Runs autocannon against one URL for a fixed time (after an
 * untimed warm-up whose figures are discarded) and prints one JSON line with the figures.
 * Usage: load-worker.ts <file with a LoadSpec as JSON>
 *
 * A response counts as an error when it is not 2xx, when the connection fails or times out, or when its
 * body is not a GraphQL success (`"data"` without `"errors"`): a gateway that answers fast with errors
 * must not look fast.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { percentile, type LoadResult, type LoadSpec } from './load-spec.ts';

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadSpec;

function isGraphQLSuccess(body: string): boolean {
  return body.includes('"data"') && !body.includes('"errors"');
}

function run(durationSeconds: number, latencies?: number[]): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...spec.headers },
        body: spec.body,
        connections: spec.connections,
        pipelining: 1,
        duration: durationSeconds,
        timeout: 10,
        verifyBody: isGraphQLSuccess,
      } as autocannon.Options & { verifyBody: (body: string) => boolean },
      (error, result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    );
    if (latencies) {
      // autocannon's typings omit the client argument the tracker really passes first.
      instance.on('response', (...args: unknown[]) => {
        const [statusCode, , responseTime] = args.slice(-3) as [number, number, number];
        if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      });
    }
  });
}

const warmup = spec.warmupSeconds > 0 ? await run(spec.warmupSeconds) : undefined;
const latencies: number[] = [];
const result = await run(spec.durationSeconds, latencies);
latencies.sort((a, b) => a - b);
const failed = result.errors + result.timeouts + result.non2xx + result.mismatches;
const succeeded = result['2xx'] - result.mismatches;
const output: LoadResult = {
  requests: result['2xx'] + result.non2xx,
  succeeded,
  errors: failed,
  errorBreakdown: {
    connection: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    notGraphQLSuccess: result.mismatches,
  },
  durationSeconds: result.duration,
  requestsPerSecond: succeeded / result.duration,
  latencyMs: {
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? Number.NaN,
  },
  connections: spec.connections,
  sentIncludingWarmup: (warmup?.requests.sent ?? 0) + result.requests.sent,
};
process.stdout.write(JSON.stringify({ ready: true, result: output }) + '\n');
