/** Composition root of the gateway. */
import { createLogger, runMain } from '@commerce/platform';
import { loadGatewayConfig } from './config.ts';
import { startGateway } from './server.ts';

export { startGateway, loadGatewayConfig };

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain('gateway', undefined, async () => {
    const config = loadGatewayConfig();
    return startGateway(config, createLogger({ service: 'gateway', level: config.logLevel }));
  });
}
