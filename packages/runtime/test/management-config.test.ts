import { ConfigError } from '@commerce/platform';
import { loadServiceConfig } from '../src/config.ts';
import { DEFAULT_MANAGEMENT_PORTS, DEFAULT_PORTS, SERVICE_NAMES } from '../src/services.ts';

/** The variables of one configuration problem, or [] when the configuration loads. */
const problems = (load: () => unknown): string[] => {
  try {
    load();
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((problem) => problem.variable);
    throw error;
  }
};

describe('a subgraph’s management listener (/health, /ready, /metrics)', () => {
  test.each(SERVICE_NAMES)('%s: on loopback and a default port of its own, apart from the graph port', (service) => {
    const config = loadServiceConfig(service, {});
    expect(config.port).toBe(DEFAULT_PORTS[service]);
    expect(config.management).toEqual({ host: '127.0.0.1', port: DEFAULT_MANAGEMENT_PORTS[service] });
  });

  test('the defaults do not collide with each other or with any graph port (embedded mode runs all in one process)', () => {
    const ports = [...Object.values(DEFAULT_PORTS), ...Object.values(DEFAULT_MANAGEMENT_PORTS)];
    expect(new Set(ports).size).toBe(ports.length);
  });

  test('port 0 for the graph gives a free management port too, unless one is set', () => {
    expect(loadServiceConfig('catalog', { CATALOG_PORT: '0' }).management.port).toBe(0);
    expect(loadServiceConfig('catalog', { CATALOG_PORT: '0', CATALOG_MANAGEMENT_PORT: '9999' }).management.port).toBe(9999);
    expect(loadServiceConfig('orders', { ORDERS_PORT: '5003', ORDERS_MANAGEMENT_PORT: '0' }).management.port).toBe(0);
  });

  test('MANAGEMENT_HOST opens it to the network (Kubernetes)', () => {
    expect(loadServiceConfig('users', { MANAGEMENT_HOST: '0.0.0.0', HOST: '10.1.2.3' }).management.host).toBe('0.0.0.0');
  });

  test('a management port equal to the graph port, or not a port, is refused by name', () => {
    expect(problems(() => loadServiceConfig('billing', { BILLING_PORT: '4004', BILLING_MANAGEMENT_PORT: '4004' }))).toEqual([
      'BILLING_MANAGEMENT_PORT',
    ]);
    expect(problems(() => loadServiceConfig('billing', { BILLING_MANAGEMENT_PORT: 'metrics' }))).toEqual([
      'BILLING_MANAGEMENT_PORT',
    ]);
    expect(problems(() => loadServiceConfig('billing', { BILLING_MANAGEMENT_PORT: '70000' }))).toEqual([
      'BILLING_MANAGEMENT_PORT',
    ]);
    expect(problems(() => loadServiceConfig('billing', { MANAGEMENT_HOST: ' ' }))).toEqual(['MANAGEMENT_HOST']);
  });
});
