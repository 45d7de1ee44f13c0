/**
 * `/health`, `/ready` and `/metrics` (operation names, error counts, rate-limit counters) are served on each
 * service's management port only: the client-facing port, the one the ingress routes to, answers 404 there
 * — for the gateway with its cache hit path in front of Express too. Embedded stack, every service.
 */
import { jest } from '@jest/globals';
import { startTestStack, type TestStack } from '@commerce/testkit';

jest.setTimeout(60_000);

const MANAGEMENT_PATHS = ['/health', '/ready', '/metrics'] as const;

describe('management port (embedded)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** Every service: its public base URL (where clients and the gateway call it) and its management one. */
  const services = () => [
    { name: 'gateway', public: new URL(stack.gatewayUrl).origin, management: stack.gateway.management },
    ...Object.entries(stack.services).map(([name, service]) => ({
      name,
      public: new URL(service.url).origin,
      management: service.management,
    })),
  ];

  test('every service has a management listener of its own, on another port than its public one', () => {
    const all = services();
    expect(all.map((service) => service.name).sort()).toEqual(['billing', 'catalog', 'gateway', 'orders', 'users']);
    for (const service of all) {
      expect(service.management.port).toBeGreaterThan(0);
      expect(service.management.url).toBe(`http://127.0.0.1:${service.management.port}`);
      expect(service.management.url).not.toBe(service.public);
    }
    expect(new Set(all.map((service) => service.management.port)).size).toBe(all.length);
  });

  test('the public port of every service answers 404 on /health, /ready and /metrics', async () => {
    // Warm the gateway's response cache first: the hit path answers in front of Express, it must not answer these.
    await stack.query('{ __typename }');
    for (const service of services()) {
      for (const path of MANAGEMENT_PATHS) {
        for (const method of ['GET', 'HEAD'] as const) {
          const response = await fetch(`${service.public}${path}`, { method });
          const body = await response.text();
          expect({ service: service.name, path, method, status: response.status }).toEqual({
            service: service.name,
            path,
            method,
            status: 404,
          });
          expect(body).not.toContain('# HELP');
        }
      }
    }
  });

  test('the management port of every service answers /health, /ready and /metrics', async () => {
    for (const service of services()) {
      const health = await fetch(`${service.management.url}/health`);
      expect({ service: service.name, status: health.status }).toEqual({ service: service.name, status: 200 });
      expect(await health.json()).toEqual({ status: 'ok' });

      // The gateway is ready once the subgraphs answer it; they all run here.
      const ready = await fetch(`${service.management.url}/ready`);
      expect({ service: service.name, status: ready.status }).toEqual({ service: service.name, status: 200 });
      expect(await ready.json()).toMatchObject({ status: 'ready' }); // plus what is still starting, if anything

      const metrics = await fetch(`${service.management.url}/metrics`);
      expect({ service: service.name, status: metrics.status }).toEqual({ service: service.name, status: 200 });
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      expect(await metrics.text()).toContain('# HELP http_request_duration_seconds');
    }
  });

  test('the management port serves nothing but those: no graph there', async () => {
    for (const service of services()) {
      const response = await fetch(`${service.management.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect({ service: service.name, status: response.status }).toEqual({ service: service.name, status: 404 });
    }
  });
});
