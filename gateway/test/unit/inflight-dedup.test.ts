import { Response, type RequestInit } from 'node-fetch';
import type { SubgraphFetcher } from '../../src/subgraphs/data-source.ts';
import { dedupeInflightQueries } from '../../src/subgraphs/inflight-dedup.ts';

const URL = 'http://127.0.0.1:4001/graphql';
const QUERY = JSON.stringify({ query: 'query Page__catalog__0{products(first:2){nodes{id}}}', variables: {} });
const MUTATION = JSON.stringify({ query: 'mutation Add__orders__0{addToCart(productId:"p"){id}}', variables: {} });

/** A subgraph that answers after `release()` is called, counting the calls it receives. */
function slowSubgraph(answer: (call: number) => Response) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const waiting: (() => void)[] = [];
  const fetcher = ((url: string, init?: RequestInit) => {
    calls.push({ url, init });
    const call = calls.length;
    return new Promise<Response>((resolve) => waiting.push(() => resolve(answer(call))));
  }) as unknown as SubgraphFetcher;
  return { fetcher, calls, release: () => waiting.splice(0).forEach((resolve) => resolve()) };
}

const post = (body: string, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  body,
  headers: { 'content-type': 'application/json', ...headers },
});

function jsonAnswer(call: number) {
  return new Response(`{"data":{"call":${call}}}`, { status: 200, headers: { 'content-type': 'application/json' } });
}

describe('identical subgraph queries in flight at once', () => {
  it('share one call, and each caller reads its own copy of the answer', async () => {
    const subgraph = slowSubgraph(jsonAnswer);
    const { fetcher, stats } = dedupeInflightQueries(subgraph.fetcher);
    const pending = [1, 2, 3].map((n) => fetcher(URL, post(QUERY, { 'x-request-id': `req-${n}`, traceparent: `tp-${n}` })));
    subgraph.release();
    const answers = await Promise.all(pending);
    expect(subgraph.calls).toHaveLength(1);
    expect(stats).toEqual({ sent: 1, shared: 2 });
    const bodies = await Promise.all(answers.map((answer) => answer.json()));
    expect(bodies).toEqual([{ data: { call: 1 } }, { data: { call: 1 } }, { data: { call: 1 } }]);
    expect(bodies[0]).not.toBe(bodies[1]);
    expect(answers.every((answer) => answer.headers.get('content-type') === 'application/json')).toBe(true);
  });

  it('makes a new call once the first answer has arrived (nothing is cached)', async () => {
    const subgraph = slowSubgraph(jsonAnswer);
    const { fetcher } = dedupeInflightQueries(subgraph.fetcher);
    const first = fetcher(URL, post(QUERY));
    subgraph.release();
    await (await first).json();
    const second = fetcher(URL, post(QUERY));
    subgraph.release();
    expect(await (await second).json()).toEqual({ data: { call: 2 } });
    expect(subgraph.calls).toHaveLength(2);
  });

  it('never share across different tokens, bodies or subgraphs', async () => {
    const subgraph = slowSubgraph(jsonAnswer);
    const { fetcher } = dedupeInflightQueries(subgraph.fetcher);
    const pending = [
      fetcher(URL, post(QUERY, { authorization: 'Bearer a' })),
      fetcher(URL, post(QUERY, { authorization: 'Bearer b' })),
      fetcher(URL, post(QUERY.replace('first:2', 'first:3'), { authorization: 'Bearer a' })),
      fetcher('http://127.0.0.1:4003/graphql', post(QUERY, { authorization: 'Bearer a' })),
    ];
    subgraph.release();
    await Promise.all(pending);
    expect(subgraph.calls).toHaveLength(4);
  });

  it('never share mutations', async () => {
    const subgraph = slowSubgraph(jsonAnswer);
    const { fetcher, stats } = dedupeInflightQueries(subgraph.fetcher);
    const pending = [fetcher(URL, post(MUTATION)), fetcher(URL, post(MUTATION))];
    subgraph.release();
    await Promise.all(pending);
    expect(subgraph.calls).toHaveLength(2);
    expect(stats.shared).toBe(0);
  });

  it('hand a failed call to every caller that shared it, then call afresh', async () => {
    let fail = true;
    const calls: number[] = [];
    const flaky = (async () => {
      calls.push(calls.length + 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail) throw new Error('connect ECONNREFUSED');
      return jsonAnswer(calls.length);
    }) as unknown as SubgraphFetcher;
    const { fetcher } = dedupeInflightQueries(flaky);
    const results = await Promise.allSettled([fetcher(URL, post(QUERY)), fetcher(URL, post(QUERY))]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect((await fetcher(URL, post(QUERY))).status).toBe(200);
    expect(calls).toHaveLength(2);
  });
});
