/**
 * `npm start`: the whole graph on one machine with nothing to install — four subgraphs on embedded
 * PostgreSQL (PGlite, data under .data/), an in-process event bus, demo data, and the gateway.
 */
import { createLogger, runMain } from '@commerce/platform';
import { oneProcessModeLabel, startEmbeddedSubgraphs } from '@commerce/runtime';
import { loadGatewayConfig, startGateway } from '@commerce/gateway';

await runMain('embedded', undefined, async () => {
  const started = Date.now();
  const stack = await startEmbeddedSubgraphs();
  // The gateway calls the subgraphs where they really listen (their <SERVICE>_PORT may differ from the defaults).
  const serviceUrls = Object.fromEntries(stack.services.map((service) => [`${service.name.toUpperCase()}_URL`, service.url]));
  // …and signs its calls with the keyring they were started with (generated for this run unless set).
  const gatewayConfig = loadGatewayConfig({ ...serviceUrls, ...process.env, SUBGRAPH_AUTH_KEYS: stack.subgraphAuthKeys });
  const gateway = await startGateway(gatewayConfig, createLogger({ service: 'gateway', level: gatewayConfig.logLevel }), {
    bus: stack.bus,
  });
  const lines = [
    '',
    `  commerce-graph is up (${oneProcessModeLabel(process.env)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    `  GraphQL:     ${gateway.url}`,
    `  Playground:  ${gateway.url.replace(/\/graphql$/, '/playground')}`,
    // /health, /ready and /metrics are on each service's management port, not on the graph's.
    `  Metrics:     ${gateway.management.url}/metrics  (/health, /ready there too)`,
    ...stack.services.map(
      (s) => `  ${s.name.padEnd(12)} ${s.url}  management ${s.management.url}  (loopback; answers the gateway only)`,
    ),
    ...stack.notes.map((note) => `  ${note}`),
    '',
    `  Try: curl -s ${gateway.url} -H 'content-type: application/json' \\`,
    `         -d '{"query":"{ products(first: 3) { totalCount nodes { name price { amountCents currency } } } }"}'`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return {
    async stop() {
      await gateway.stop();
      await stack.stop();
    },
  };
});
