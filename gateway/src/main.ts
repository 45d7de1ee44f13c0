/**
 * Composition root of the gateway. Run standalone (full mode) it takes everything from the
 * environment: Redis from REDIS_URL, catalog events from Kafka (KAFKA_BROKERS); embedded mode
 * (`npm start`) calls `startGateway` with the in-process bus instead.
 */
import { createLogger, runMain } from '@commerce/platform';
import { loadGatewayConfig, type GatewayConfig } from './config.ts';
import { startGateway, type GatewayDependencies, type RunningGateway } from './server.ts';

export { startGateway, loadGatewayConfig };
export type { GatewayConfig, GatewayDependencies, RunningGateway };

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain('gateway', undefined, async () => {
    const config = loadGatewayConfig();
    return startGateway(config, createLogger({ service: 'gateway', level: config.logLevel }));
  });
}
