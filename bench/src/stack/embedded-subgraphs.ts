/**
 * Child process: every subgraph in this one process (`startEmbeddedSubgraphs`), each on a private
 * in-memory PGlite seeded with the demo data, on the ports the parent chose. Prints one JSON line
 * `{"ready":true,"urls":{...}}` when all answer; SIGTERM stops them.
 */
import { createLogger, runMain } from '@commerce/platform';
import { startEmbeddedSubgraphs } from '@commerce/runtime';

await runMain('bench-subgraphs', undefined, async () => {
  const stack = await startEmbeddedSubgraphs({
    env: process.env,
    seed: true,
    logger: (service) => createLogger({ service, level: process.env.LOG_LEVEL ?? 'warn' }),
  });
  const urls = Object.fromEntries(stack.services.map((service) => [service.name, service.url]));
  process.stdout.write(JSON.stringify({ ready: true, urls }) + '\n');
  return stack;
});
