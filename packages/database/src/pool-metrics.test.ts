import type { SqlDriverAdapter, SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { sumPoolStats, trackingPgPools, type PoolCounters } from './pool-metrics.ts';

const pool = (totalCount: number, idleCount: number, waitingCount: number, ended = false): PoolCounters => ({
  totalCount,
  idleCount,
  waitingCount,
  ended,
});

describe('pool stats', () => {
  test('add up the open pools and leave ended ones out', () => {
    expect(sumPoolStats([pool(10, 0, 7), pool(3, 2, 0), pool(10, 0, 99, true)])).toEqual({ total: 13, idle: 2, waiting: 7 });
    expect(sumPoolStats([])).toEqual({ total: 0, idle: 0, waiting: 0 });
  });

  test('follow the pools a factory opens until their adapter is disposed', async () => {
    const pools: PoolCounters[] = [];
    const inner = {
      provider: 'postgres',
      adapterName: 'fake-pg',
      async connect() {
        const driver = pool(2, 0, 5);
        pools.push(driver);
        return { underlyingDriver: () => driver, dispose: async () => {} } as unknown as SqlDriverAdapter;
      },
    } as SqlDriverAdapterFactory;
    const tracked = trackingPgPools(inner);
    expect(tracked.factory.provider).toBe('postgres');
    expect(tracked.factory.adapterName).toBe('fake-pg');
    const first = await tracked.factory.connect();
    await tracked.factory.connect();
    expect(tracked.stats()).toEqual({ total: 4, idle: 0, waiting: 10 });
    await first.dispose();
    expect(tracked.stats()).toEqual({ total: 2, idle: 0, waiting: 5 });
    (pools[1] as { ended: boolean }).ended = true;
    expect(tracked.stats()).toEqual({ total: 0, idle: 0, waiting: 0 });
  });
});
