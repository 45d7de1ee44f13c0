// What the connection pools behind a PostgreSQL Database are doing, for the service's /metrics
// (`db_pool_waiting_requests`, `db_pool_connections`). Read from pg's own counters, never estimated.
import type { SqlDriverAdapter, SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type pg from 'pg';

export interface PoolStats {
  /** Connections open (idle or in use). */
  total: number;
  idle: number;
  /** Queries waiting for a connection because every one is in use and the pool is at its maximum. */
  waiting: number;
}

/** pg.Pool's counters (a subset of its public API, so tests can hand in any pool-like object). */
export type PoolCounters = Pick<pg.Pool, 'totalCount' | 'idleCount' | 'waitingCount' | 'ended'>;

/** Adds up the pools that are still open (each PrismaClient connect() opens one through adapter-pg). */
export function sumPoolStats(pools: Iterable<PoolCounters>): PoolStats {
  const stats: PoolStats = { total: 0, idle: 0, waiting: 0 };
  for (const pool of pools) {
    if (pool.ended) continue;
    stats.total += pool.totalCount;
    stats.idle += pool.idleCount;
    stats.waiting += pool.waitingCount;
  }
  return stats;
}

/**
 * Wraps an adapter-pg factory so the pools it opens can be read: adapter-pg creates a pg.Pool per
 * `connect()` and exposes it as the adapter's `underlyingDriver()`. Pools leave the set when the adapter
 * is disposed (PrismaClient.$disconnect) or once they have ended.
 */
export function trackingPgPools<F extends SqlDriverAdapterFactory>(inner: F): { factory: F; stats(): PoolStats } {
  const pools = new Set<PoolCounters>();
  const factory = Object.create(inner) as F; // keeps provider, adapterName, connectToShadowDb, ...
  factory.connect = async (): Promise<SqlDriverAdapter> => {
    const adapter = await inner.connect();
    const driver = (adapter as { underlyingDriver?: () => unknown }).underlyingDriver?.();
    if (isPool(driver)) {
      pools.add(driver);
      const dispose = adapter.dispose.bind(adapter);
      adapter.dispose = async () => {
        pools.delete(driver);
        await dispose();
      };
    }
    return adapter;
  };
  return {
    factory,
    stats: () => {
      for (const pool of pools) if (pool.ended) pools.delete(pool);
      return sumPoolStats(pools);
    },
  };
}

function isPool(value: unknown): value is PoolCounters {
  return typeof value === 'object' && value !== null && typeof (value as PoolCounters).waitingCount === 'number';
}
