import { oneProcessModeLabel } from '../src/embedded.ts';

describe('what npm start says it runs', () => {
  test('embedded mode when nothing points it at a server', () => {
    expect(oneProcessModeLabel({})).toBe('embedded mode');
    expect(oneProcessModeLabel({ CATALOG_DATABASE_URL: 'pglite:/tmp/x', KAFKA_BROKERS: ' ' })).toBe('embedded mode');
  });

  test('full-mode variables: it names the servers and does not call itself embedded', () => {
    const label = oneProcessModeLabel({
      ORDERS_DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/commerce_orders',
      KAFKA_BROKERS: '127.0.0.1:9092',
    });
    expect(label).toBe('one process on full-mode servers: PostgreSQL, Kafka; npm run start:full runs one process per service');
    expect(oneProcessModeLabel({ DATABASE_URL: 'postgres://db/commerce', REDIS_URL: 'redis://127.0.0.1:6379' })).toMatch(
      /^one process on full-mode servers: PostgreSQL, Redis;/,
    );
  });
});
