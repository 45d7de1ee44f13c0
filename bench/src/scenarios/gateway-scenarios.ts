/**
 * Scenarios 1–4 against one set of running subgraphs:
 *  1. storefront page through our gateway, response cache off;
 *  2. the same through Hive Gateway (same supergraph, same subgraphs), alternating with 1 in rounds so
 *     a burst of load from elsewhere on the machine does not land on one side only;
 *  3. the same query as a cache hit at our gateway (full query text, and as an APQ hash), against a bare
 *     node:http server answering the same bytes (the ceiling);
 *  4. the mobile minimal query, with the subgraph requests it caused.
 */
import { runLoad, subgraphRequestCounts, type LoadSettings, type Measurement } from '../load/run-load.ts';
import { MOBILE_MINIMAL, STOREFRONT_PAGE, graphqlBody, persistedQueryBody, registerPersistedQueryBody } from '../queries.ts';
import {
  SUBGRAPHS,
  startCeilingServer,
  startHiveGateway,
  startOurGateway,
  type Gateway,
  type SubgraphName,
  type Subgraphs,
} from '../stack/stack.ts';

export interface GatewayScenarioOptions {
  scenarios: Set<number>;
  settings: LoadSettings;
  rounds: number;
  pageSize: number;
  /** Node flags for our gateway processes (e.g. --cpu-prof). */
  gatewayNodeFlags?: string[];
  hiveNodeFlags?: string[];
  /** Extra settings for every gateway of ours started here. */
  gatewayEnv?: Record<string, string>;
}

export interface Comparison {
  /** Each round's measurement, in the order run. */
  rounds: Measurement[];
  /** Mean of the rounds' throughput. */
  requestsPerSecond: number;
  /** Mean of the rounds' CPU time per request of the server under test. */
  serverCpuMsPerRequest: number;
}

export interface GatewayScenarioResults {
  storefrontOurs?: Comparison;
  storefrontHive?: Comparison;
  cacheHit?: Comparison;
  cacheHitPersisted?: Comparison;
  /** A bare server sending the same response bytes as the hit: its header block and its body. */
  ceiling?: Comparison;
  /** A bare server sending the same body with only content type and length (for information). */
  ceilingBodyOnly?: Comparison;
  /** How many headers the hit (and so the ceiling) sends besides those Node adds. */
  ceilingHeaderCount?: number;
  mobile?: Measurement;
  /**
   * The mobile query sent one at a time (so no two identical subgraph calls are ever in flight together
   * and none is shared): the subgraph requests each gateway request makes.
   */
  mobileSequential?: { requests: number; subgraphRequests: Record<SubgraphName, number> };
  /** The storefront response each side gave once before the load, for the record. */
  responseBytes?: Record<string, number>;
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
const comparison = (rounds: Measurement[]): Comparison => ({
  rounds,
  requestsPerSecond: mean(rounds.map((r) => r.requestsPerSecond)),
  serverCpuMsPerRequest: mean(rounds.map((r) => r.cpuMsPerRequest?.server ?? Number.NaN)),
});

async function post(url: string, body: string): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** Headers Node's HTTP server writes itself, on the gateway and on the ceiling alike. */
const HEADERS_NODE_ADDS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** One request before the load: the answer must be a GraphQL success, or the figures would be meaningless. */
async function expectSuccess(gateway: Gateway, body: string): Promise<string> {
  const { status, text } = await post(gateway.url, body);
  if (status !== 200 || !text.includes('"data"') || text.includes('"errors"')) {
    throw new Error(`${gateway.name} did not answer the benchmark query: HTTP ${status} ${text.slice(0, 500)}`);
  }
  return text;
}

export async function runGatewayScenarios(
  subgraphs: Subgraphs,
  options: GatewayScenarioOptions,
): Promise<GatewayScenarioResults> {
  const { scenarios, settings, rounds, pageSize } = options;
  const results: GatewayScenarioResults = { responseBytes: {} };
  const started: Gateway[] = [];
  const storefront = graphqlBody(STOREFRONT_PAGE, { first: pageSize });
  const cpu = (server: Gateway) => ({ server: [server.child.pid], subgraphs: subgraphs.children.map((child) => child.pid) });
  try {
    if (scenarios.has(1) || scenarios.has(2)) {
      const sides: Gateway[] = [];
      if (scenarios.has(1)) {
        const ours = await startOurGateway({
          name: 'ours-uncached',
          subgraphs: subgraphs.urls,
          responseCache: false,
          nodeFlags: options.gatewayNodeFlags,
          env: options.gatewayEnv,
        });
        started.push(ours);
        sides.push(ours);
      }
      if (scenarios.has(2)) {
        const hive = await startHiveGateway('hive-gateway', subgraphs.urls, options.hiveNodeFlags);
        started.push(hive);
        sides.push(hive);
      }
      for (const side of sides) results.responseBytes![side.name] = Buffer.byteLength(await expectSuccess(side, storefront));
      console.log(`\nScenario 1/2: storefront page (products(first: ${pageSize}) with price, category, stock), uncached`);
      const measured: Record<string, Measurement[]> = {};
      for (let round = 1; round <= rounds; round++) {
        for (const side of round % 2 === 1 ? sides : [...sides].reverse()) {
          (measured[side.name] ??= []).push(
            await runLoad(
              `${side.name} round ${round}`,
              { url: side.url, body: storefront },
              settings,
              subgraphs.management,
              cpu(side),
            ),
          );
        }
      }
      if (measured['ours-uncached']) results.storefrontOurs = comparison(measured['ours-uncached']);
      if (measured['hive-gateway']) results.storefrontHive = comparison(measured['hive-gateway']);
      for (const side of sides) await side.stop();
    }

    if (scenarios.has(3)) {
      console.log('\nScenario 3: storefront page as a cache hit at our gateway, against the bare-HTTP ceiling');
      const cached = await startOurGateway({
        name: 'ours-cached',
        subgraphs: subgraphs.urls,
        responseCache: true,
        nodeFlags: options.gatewayNodeFlags,
        env: options.gatewayEnv,
      });
      started.push(cached);
      // First request fills the cache; the second must be served from it (no subgraph request).
      await expectSuccess(cached, storefront);
      const before = await subgraphRequestCounts(subgraphs.management);
      const hitBody = await expectSuccess(cached, storefront);
      const after = await subgraphRequestCounts(subgraphs.management);
      if (after.catalog !== before.catalog) throw new Error('the second storefront request was not a cache hit at our gateway');
      // Register the persisted query (APQ) once; afterwards the hash alone is enough.
      await expectSuccess(cached, registerPersistedQueryBody(STOREFRONT_PAGE, { first: pageSize }));
      const persisted = persistedQueryBody(STOREFRONT_PAGE, { first: pageSize });
      await expectSuccess(cached, persisted);
      results.responseBytes!['ours-cached'] = Buffer.byteLength(hitBody);
      // The ceiling answers with the hit's own header block (same order and values) and body.
      const hit = await post(cached.url, storefront);
      const hitHeaders = [...hit.headers].filter(([name]) => !HEADERS_NODE_ADDS.has(name));
      if (hit.text !== hitBody) throw new Error('two cache hits at our gateway answered different bodies');
      const ceiling = await startCeilingServer('ceiling', hitBody, hitHeaders);
      started.push(ceiling);
      const bodyOnly = await startCeilingServer('ceiling-body-only', hitBody);
      started.push(bodyOnly);
      type Side = 'hit' | 'apq' | 'ceiling' | 'bodyOnly';
      const measured: Record<Side, Measurement[]> = { hit: [], apq: [], ceiling: [], bodyOnly: [] };
      for (let round = 1; round <= rounds; round++) {
        const order: Side[] = round % 2 === 1 ? ['hit', 'apq', 'ceiling', 'bodyOnly'] : ['bodyOnly', 'ceiling', 'apq', 'hit'];
        for (const which of order) {
          const server = which === 'ceiling' ? ceiling : which === 'bodyOnly' ? bodyOnly : cached;
          const target = { url: server.url, body: which === 'apq' ? persisted : storefront };
          const label = {
            hit: 'ours cache hit',
            apq: 'ours cache hit (APQ hash)',
            ceiling: 'bare node:http ceiling',
            bodyOnly: 'bare node:http, body only',
          }[which];
          measured[which].push(
            await runLoad(
              `${label} round ${round}`,
              target,
              settings,
              server === cached ? subgraphs.management : undefined,
              cpu(server),
            ),
          );
        }
      }
      results.cacheHit = comparison(measured.hit);
      results.cacheHitPersisted = comparison(measured.apq);
      results.ceiling = comparison(measured.ceiling);
      results.ceilingBodyOnly = comparison(measured.bodyOnly);
      results.ceilingHeaderCount = hitHeaders.length;
      await bodyOnly.stop();
      await ceiling.stop();
      await cached.stop();
    }

    if (scenarios.has(4)) {
      console.log('\nScenario 4: mobile minimal query (ids and names), our gateway, uncached');
      const ours = await startOurGateway({
        name: 'ours-mobile',
        subgraphs: subgraphs.urls,
        responseCache: false,
        nodeFlags: options.gatewayNodeFlags,
        env: options.gatewayEnv,
      });
      started.push(ours);
      const body = graphqlBody(MOBILE_MINIMAL, { first: pageSize });
      await expectSuccess(ours, body);
      const sequential = 50;
      const before = await subgraphRequestCounts(subgraphs.management);
      for (let i = 0; i < sequential; i++) await expectSuccess(ours, body);
      const after = await subgraphRequestCounts(subgraphs.management);
      results.mobileSequential = {
        requests: sequential,
        subgraphRequests: Object.fromEntries(SUBGRAPHS.map((name) => [name, after[name] - before[name]])) as Record<
          SubgraphName,
          number
        >,
      };
      console.log(
        `  ${sequential} requests one at a time → subgraph requests: ${SUBGRAPHS.map((name) => `${name} ${results.mobileSequential!.subgraphRequests[name]}`).join(', ')}`,
      );
      results.mobile = await runLoad('ours mobile minimal', { url: ours.url, body }, settings, subgraphs.management, cpu(ours));
      await ours.stop();
    }
  } finally {
    for (const gateway of started.reverse()) await gateway.stop();
  }
  return results;
}
