/**
 * Collapses identical subgraph queries that are in flight at the same moment into one HTTP call:
 * when a popular storefront page is requested by many clients at once, the catalog answers it once
 * and every waiting request gets its own copy of that answer. (Hive Gateway and Apollo Router do the
 * same by default.)
 *
 * Only read operations are shared: a body that is not a `query` (mutations, anything else) always
 * gets its own call. Requests share only when URL, body and every header except the per-request
 * correlation ids are equal — so two viewers' tokens never share an answer.
 */
import { Headers, Response, type RequestInit } from 'node-fetch';
import type { SubgraphFetcher } from './data-source.ts';

/**
 * Per-request ids, and the gateway's own subgraph token (the same caller whichever token is current):
 * the shared call carries the first caller's.
 */
const HEADERS_NOT_IN_KEY = new Set(['x-request-id', 'traceparent', 'x-forwarded-for', 'x-subgraph-token']);
/** A query document as the gateway's planner sends it: `query …` or the `{ … }` shorthand. */
const QUERY_BODY = /^\{"query":"(query\b|\{)/;

interface SharedAnswer {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: Buffer;
}

export interface InflightDedupStats {
  /** Calls that went to the subgraph. */
  sent: number;
  /** Calls answered by another identical call already in flight. */
  shared: number;
}

export function dedupeInflightQueries(fetcher: SubgraphFetcher): { fetcher: SubgraphFetcher; stats: InflightDedupStats } {
  const inflight = new Map<string, Promise<SharedAnswer>>();
  const stats: InflightDedupStats = { sent: 0, shared: 0 };

  const deduped = async (url: string, init?: RequestInit) => {
    const body = init?.body;
    if (typeof body !== 'string' || (init?.method ?? 'GET').toUpperCase() !== 'POST' || !QUERY_BODY.test(body)) {
      stats.sent += 1;
      return fetcher(url, init);
    }
    const key = keyOf(url, body, init?.headers);
    let answer = inflight.get(key);
    if (answer) {
      stats.shared += 1;
    } else {
      stats.sent += 1;
      answer = fetcher(url, init).then(async (response) => ({
        status: response.status,
        statusText: response.statusText,
        headers: [...response.headers.entries()],
        body: await response.buffer(),
      }));
      inflight.set(key, answer);
      const settled = () => inflight.delete(key);
      answer.then(settled, settled);
    }
    const { status, statusText, headers, body: bytes } = await answer;
    // A fresh Response per caller: each reads (and parses) its own copy.
    return new Response(bytes, { status, statusText, headers: new Headers(headers), url });
  };
  return { fetcher: deduped as SubgraphFetcher, stats };
}

function keyOf(url: string, body: string, headers: RequestInit['headers']): string {
  let key = `${url}\n${body}`;
  if (headers) {
    const entries: [string, string][] =
      headers instanceof Headers
        ? [...headers.entries()]
        : Array.isArray(headers)
          ? (headers as [string, string][])
          : Object.entries(headers as Record<string, string>);
    const normalized = entries.map(([name, value]) => [name.toLowerCase(), String(value)] as const);
    for (const [name, value] of normalized.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      if (!HEADERS_NOT_IN_KEY.has(name)) key += `\n${name}: ${value}`;
    }
  }
  return key;
}
