// Opening databases: real PostgreSQL through @prisma/adapter-pg, or embedded PGlite through pglite-prisma-adapter.
// `Database.adapter` is what every generated PrismaClient takes: `new PrismaClient({ adapter: db.adapter })`.
import { EventEmitter } from 'node:events';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { trackingPgPools, type PoolStats } from './pool-metrics.ts';

/** PGlite `dataDir` is a directory, or 'memory://' for a private in-memory database. */
export type DatabaseTarget = { kind: 'postgres'; url: string; poolSize?: number } | { kind: 'pglite'; dataDir: string };

export interface Database {
  readonly target: DatabaseTarget;
  /** Pass to `new PrismaClient({ adapter })` of any generated client. */
  readonly adapter: SqlDriverAdapterFactory;
  /** The PostgreSQL connection pools' counters; undefined for PGlite (one connection, no pool). */
  poolStats?(): PoolStats;
  close(): Promise<void>;
}

export const PGLITE_MEMORY = 'memory://';
/** Installed PGlite version (its package.json is not exported, so find it beside the resolved entry). */
const PGLITE_VERSION = ((): string => {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
})();

/** 'postgres://…' | 'postgresql://…' → postgres; 'pglite:./dir' → pglite at that dir; 'pglite:memory' → in-memory. */
export function databaseTargetFromUrl(url: string): DatabaseTarget {
  if (/^postgres(ql)?:\/\//i.test(url)) return { kind: 'postgres', url };
  if (url.startsWith('pglite:')) {
    const rest = url.slice('pglite:'.length);
    if (rest === 'memory' || rest === PGLITE_MEMORY) return { kind: 'pglite', dataDir: PGLITE_MEMORY };
    if (rest.length > 0) return { kind: 'pglite', dataDir: rest };
  }
  // Only the scheme is echoed: the rest of a URL may hold a password.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? '(none)';
  throw new Error(
    `Unsupported database URL scheme ${scheme}: expected postgres://, postgresql://, pglite:<dir> or pglite:memory`,
  );
}

export interface OpenDatabaseOptions {
  /** Called when a PostgreSQL connection breaks (server restart, terminated backend, network): logged, never fatal. */
  onConnectionError?: (error: Error) => void;
}

export async function openDatabase(target: DatabaseTarget, options: OpenDatabaseOptions = {}): Promise<Database> {
  if (target.kind === 'postgres') {
    const adapter = new PrismaPg({ connectionString: target.url, max: target.poolSize });
    const pools = trackingPgPools(survivingConnectionErrors(adapter, options.onConnectionError ?? (() => {})));
    // PrismaPg opens its pool on connect() and ends it on the adapter's dispose(), so there is nothing to close here.
    return { target, adapter: pools.factory, poolStats: pools.stats, close: async () => {} };
  }
  const handle = await acquirePGlite(target.dataDir);
  const db: Database = {
    target,
    adapter: pgliteAdapterFactory(handle.pglite),
    close: handle.release,
  };
  pglites.set(db, handle.pglite);
  return db;
}

/**
 * A pg client emits 'error' when its connection dies (e.g. "terminating connection due to administrator command" on
 * a PostgreSQL restart). pg-pool and adapter-pg listen only while a client is idle in the pool or running their own
 * query; an 'error' outside those windows (a client checked out between statements) has no listener, and Node then
 * ends the process. So every client of every pool gets a listener for its whole life: the broken client is dropped
 * by the pool when released, and the request that used it fails with SERVICE_UNAVAILABLE.
 */
export function survivingConnectionErrors<F extends SqlDriverAdapterFactory>(inner: F, onError: (error: Error) => void): F {
  const factory = Object.create(inner) as F;
  factory.connect = async (): Promise<SqlDriverAdapter> => {
    const adapter = await inner.connect();
    const pool = (adapter as { underlyingDriver?: () => unknown }).underlyingDriver?.();
    if (pool instanceof EventEmitter) {
      pool.on('error', onError);
      pool.on('connect', (client: EventEmitter) => client.on('error', onError));
    }
    return adapter;
  };
  return factory;
}

/** The PGlite instance behind a pglite Database (the migration engine must share it: PGlite is single-connection). */
export function pgliteOf(db: Database): PGlite | undefined {
  return pglites.get(db);
}
const pglites = new WeakMap<Database, PGlite>();

/**
 * Prisma adapter over a PGlite instance. pglite-prisma-adapter@0.7.2's `executeScript` calls `client.exec(script)`
 * without awaiting it: the promise resolves at once and a failing script becomes an unhandled rejection instead
 * of an error (e.g. a broken migration would be recorded as applied). We replace it with an awaiting version.
 * `mapError` lets the migration engine choose how script errors are reported.
 */
export function pgliteAdapterFactory(pglite: PGlite, mapError: (error: unknown) => never = rethrow): SqlDriverAdapterFactory {
  // The package is built against an older @prisma/driver-adapter-utils (7.2); its types differ only nominally.
  const inner = new PrismaPGlite(pglite) as unknown as SqlDriverAdapterFactory;
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    async connect(): Promise<SqlDriverAdapter> {
      const adapter = await inner.connect();
      adapter.executeScript = async (script) => {
        try {
          await pglite.exec(script);
        } catch (error) {
          mapError(error);
        }
      };
      return adapter;
    },
  };
}

function rethrow(error: unknown): never {
  throw error;
}

// One PGlite per data directory per process: two instances on one directory both "work" and corrupt it.
// In-memory databases are never shared: each openDatabase('memory://') is a fresh, private database.
const openDirs = new Map<string, { ready: Promise<PGlite>; refs: number }>();
const closing = new Map<string, Promise<void>>(); // a reopen waits until the previous instance has closed

async function acquirePGlite(dataDir: string): Promise<{ pglite: PGlite; release: () => Promise<void> }> {
  if (dataDir === PGLITE_MEMORY) {
    const pglite = await PGlite.create({ loadDataDir: await blankClusterImage() });
    return { pglite, release: once(() => pglite.close()) };
  }
  const key = path.resolve(dataDir);
  let entry = openDirs.get(key);
  if (!entry) {
    const ready = (closing.get(key) ?? Promise.resolve())
      .then(() => mkdir(path.dirname(key), { recursive: true }))
      .then(async () =>
        // A new data folder starts from the blank image instead of running initdb (much faster first start).
        existsSync(path.join(key, 'PG_VERSION'))
          ? PGlite.create(key)
          : PGlite.create(key, { loadDataDir: await blankClusterImage() }),
      );
    entry = { ready, refs: 0 };
    openDirs.set(key, entry);
    ready.catch(() => openDirs.delete(key));
  }
  entry.refs += 1;
  const shared = entry;
  const pglite = await shared.ready;
  return {
    pglite,
    release: once(async () => {
      shared.refs -= 1;
      if (shared.refs > 0) return;
      openDirs.delete(key);
      const closed = pglite.close();
      closing.set(
        key,
        closed.catch(() => {}),
      );
      await closed;
    }),
  };
}

/**
 * A freshly initialised, empty PGlite cluster as a tarball. Creating a PGlite runs initdb inside wasm
 * (5–10 s on this machine); loading this image takes a fraction of that, and tests open many in-memory
 * databases. Cached per process and on disk (per PGlite version) so every test worker reuses it.
 */
let blankImage: Promise<Blob> | undefined;
export function blankClusterImage(): Promise<Blob> {
  blankImage ??= (async () => {
    const file = path.join(os.tmpdir(), `commerce-graph-pglite-${PGLITE_VERSION}-blank.tar`);
    try {
      return new Blob([await readFile(file)]);
    } catch {
      const pglite = await PGlite.create(PGLITE_MEMORY);
      const image = await pglite.dumpDataDir('none');
      await pglite.close();
      const partial = `${file}.${process.pid}.partial`;
      await writeFile(partial, Buffer.from(await image.arrayBuffer()));
      await rename(partial, file); // atomic: concurrent workers never read half a file
      return image;
    }
  })();
  blankImage.catch(() => (blankImage = undefined));
  return blankImage;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}
