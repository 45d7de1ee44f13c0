import type { Logger, SubgraphTokenSigner } from '@commerce/platform';

/** Subgraphs the supergraph routes to (its `join__Graph` values) with the URL composition recorded. */
export function supergraphSubgraphs(supergraphSdl: string): Record<string, string> {
  return Object.fromEntries(
    [...supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)].map((match) => [match[1]!, match[2]!]),
  );
}

/**
 * Ready = the supergraph is loaded and every subgraph it routes to answers a trivial query.
 * Answers are remembered briefly so frequent probes do not turn into a stream of subgraph calls.
 */
export function subgraphsReadiness(options: {
  urls: Record<string, string>;
  /** The probe is a subgraph call like any other: it presents the gateway's token. */
  tokens: SubgraphTokenSigner;
  timeoutMs: number;
  logger: Logger;
  cacheMs?: number;
}): () => Promise<boolean> {
  const { urls, tokens, timeoutMs, logger, cacheMs = 2000 } = options;
  let last: { at: number; ready: boolean } | undefined;
  const probe = async (name: string, url: string) => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...tokens.headersFor(name) },
        body: '{"query":"{ __typename }"}',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await response.json()) as { data?: { __typename?: string } };
      if (response.ok && body.data?.__typename === 'Query') return true;
      logger.warn({ service: name, status: response.status }, 'subgraph not ready');
    } catch (error) {
      logger.warn({ service: name, err: { message: (error as Error).message } }, 'subgraph unreachable');
    }
    return false;
  };
  return async () => {
    if (last && Date.now() - last.at < cacheMs) return last.ready;
    const results = await Promise.all(Object.entries(urls).map(([name, url]) => probe(name, url)));
    last = { at: Date.now(), ready: results.every(Boolean) };
    return last.ready;
  };
}
