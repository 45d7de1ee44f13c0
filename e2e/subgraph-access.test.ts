/**
 * Subgraphs answer the gateway only, on the embedded stack (PGlite, in-process bus): see
 * subgraph-access.shared.ts. Also: embedded mode binds the subgraphs to loopback whatever HOST says,
 * and a production gateway refuses to start without SUBGRAPH_AUTH_KEYS.
 */
import net from 'node:net';
import os from 'node:os';
import { ConfigError, createLogger, generateSubgraphKeys } from '@commerce/platform';
import { loadGatewayConfig, startGateway } from '@commerce/gateway';
import { startTestStack, type TestStack } from '@commerce/testkit';
import { SUBGRAPH_NAMES, subgraphAccessSuite, type SubgraphName } from './subgraph-access.shared.ts';

let stack: TestStack;

beforeAll(async () => {
  // HOST asks for every interface: embedded mode still keeps the subgraphs on loopback.
  stack = await startTestStack({ env: { HOST: '0.0.0.0' } });
}, 180_000);
afterAll(() => stack?.stop(), 60_000);

describe('subgraphs answer the gateway only (embedded: PGlite, in-process bus)', () => {
  subgraphAccessSuite(() => ({
    gatewayUrl: stack.gatewayUrl,
    gatewayReadyUrl: `${stack.gateway.management.url}/ready`,
    subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, stack.services[name]!.url])) as Record<
      SubgraphName,
      string
    >,
    subgraphAuthKeys: stack.embedded.subgraphAuthKeys,
  }));
});

describe('embedded mode', () => {
  it('binds every subgraph to loopback only, even with HOST=0.0.0.0', async () => {
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
    for (const service of stack.embedded.services) {
      expect(await connects('127.0.0.1', service.port)).toBe(true);
      // A machine without another interface has nothing else to reach the subgraphs from.
      if (external)
        expect({ service: service.name, reachable: await connects(external, service.port) }).toEqual({
          service: service.name,
          reachable: false,
        });
    }
    // The gateway is the one that listens where HOST says.
    if (external) expect(await connects(external, stack.gateway.port)).toBe(true);
  });
});

describe('a gateway whose keyring the subgraphs do not share', () => {
  it("answers SERVICE_UNAVAILABLE for their fields (a misconfiguration, not the client's fault) and is not ready", async () => {
    const stranger = await startGateway(
      loadGatewayConfig({
        ...stack.env,
        HOST: '127.0.0.1',
        GATEWAY_PORT: '0',
        GATEWAY_MANAGEMENT_PORT: '0',
        SUBGRAPH_AUTH_KEYS: generateSubgraphKeys('other'),
      }),
      createLogger({ service: 'gateway', level: 'silent' }),
    );
    try {
      const response = await fetch(`http://127.0.0.1:${stranger.port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ products(first: 1) { totalCount } }' }),
      });
      const body = (await response.json()) as { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] };
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', serviceName: 'catalog' });
      expect(JSON.stringify(body)).not.toMatch(/SUBGRAPH_TOKEN_REQUIRED|401/);
      expect((await fetch(`${stranger.management.url}/ready`)).status).toBe(503);
    } finally {
      await stranger.stop();
    }
  });
});

describe('full mode (production)', () => {
  it('refuses to start a gateway without SUBGRAPH_AUTH_KEYS, naming the variable', async () => {
    const config = loadGatewayConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      JWT_JWKS_URL: 'http://127.0.0.1:1/.well-known/jwks.json',
    });
    const started = startGateway(config, createLogger({ service: 'gateway', level: 'silent' }));
    await expect(started).rejects.toThrow(ConfigError);
    await expect(started).rejects.toThrow(/^SUBGRAPH_AUTH_KEYS: required in production/);
  });
});

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
