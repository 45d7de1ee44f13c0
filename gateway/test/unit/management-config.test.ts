import { ConfigError } from '@commerce/platform';
import { loadGatewayConfig } from '../../src/config.ts';

describe('the gateway’s management listener (/health, /ready, /metrics)', () => {
  test('defaults to 9400 on loopback, apart from the graph port 4000', () => {
    const config = loadGatewayConfig({});
    expect(config.port).toBe(4000);
    expect(config.management).toEqual({ host: '127.0.0.1', port: 9400 });
  });

  test('follows GATEWAY_MANAGEMENT_PORT and MANAGEMENT_HOST; port 0 for the graph gives a free one', () => {
    expect(loadGatewayConfig({ GATEWAY_MANAGEMENT_PORT: '9500', MANAGEMENT_HOST: '0.0.0.0' }).management).toEqual({
      host: '0.0.0.0',
      port: 9500,
    });
    expect(loadGatewayConfig({ GATEWAY_PORT: '0' }).management.port).toBe(0);
  });

  test('refuses a management port equal to the graph port', () => {
    expect(() => loadGatewayConfig({ GATEWAY_PORT: '8080', GATEWAY_MANAGEMENT_PORT: '8080' })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ GATEWAY_PORT: '8080', GATEWAY_MANAGEMENT_PORT: '8080' })).toThrow(/GATEWAY_MANAGEMENT_PORT/);
  });
});
