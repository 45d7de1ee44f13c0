/**
 * Starting what a benchmark needs, each as its own process on loopback: the subgraphs (embedded in one
 * process on PGlite, or one process per subgraph on real PostgreSQL), our gateway, Hive Gateway, and the
 * bare-HTTP ceiling server.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { testJwtEnv } from '@commerce/testkit/tokens';
import { BENCH_DIR, REPO_ROOT, freePort, readyLine, spawnNode, waitForHttp, type Child } from '../processes.ts';

export const SUBGRAPHS = ['catalog', 'users', 'orders', 'billing'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];
export type SubgraphUrls = Record<SubgraphName, string>;

export const SUPERGRAPH_FILE = path.join(REPO_ROOT, 'gateway', 'supergraph.graphql');
const WORK_DIR = path.join(BENCH_DIR, 'results', 'work.tmp');

const RUN_ID = Date.now().toString(36);

/** Same JWT key for every process, so a token signed here is accepted everywhere (checkout needs a customer). */
export const jwtEnv = testJwtEnv();

export interface Subgraphs {
  urls: SubgraphUrls;
  /** Each subgraph's management base URL (`/health`, `/ready`, `/metrics`; the graph port answers 404 there). */
  management: SubgraphUrls;
  mode: 'embedded (PGlite, one process)' | 'PostgreSQL (one process per subgraph)';
  children: Child[];
  /** Extra environment the saga benchmark shares (e.g. KAFKA_BROKERS). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface SubgraphOptions {
  /** Set: each subgraph gets a fresh database on this server (dropped on stop) and runs as its own process. */
  databaseUrl?: string;
  /** Set: every subgraph uses Kafka instead of the in-process bus. */
  kafkaBrokers?: string;
  /** Node flags for the subgraph processes (e.g. --cpu-prof). */
  nodeFlags?: string[];
  label?: string;
  /** Extra environment for every subgraph. */
  env?: Record<string, string>;
}

const baseEnv = (): Record<string, string> => ({
  ...jwtEnv,
  // Not "production": demo data is seeded only outside production.
  NODE_ENV: 'development',
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
});

export async function startSubgraphs(options: SubgraphOptions = {}): Promise<Subgraphs> {
  const ports = Object.fromEntries(await Promise.all(SUBGRAPHS.map(async (name) => [name, await freePort()] as const))) as Record<
    SubgraphName,
    number
  >;
  const urls = Object.fromEntries(SUBGRAPHS.map((name) => [name, `http://127.0.0.1:${ports[name]}/graphql`])) as SubgraphUrls;
  const managementPorts = Object.fromEntries(
    await Promise.all(SUBGRAPHS.map(async (name) => [name, await freePort()] as const)),
  ) as Record<SubgraphName, number>;
  const management = Object.fromEntries(
    SUBGRAPHS.map((name) => [name, `http://127.0.0.1:${managementPorts[name]}`]),
  ) as SubgraphUrls;
  const env: Record<string, string> = {
    ...baseEnv(),
    ...(options.kafkaBrokers ? { KAFKA_BROKERS: options.kafkaBrokers } : {}),
    ...options.env,
  };
  for (const name of SUBGRAPHS) {
    env[`${name.toUpperCase()}_PORT`] = String(ports[name]);
    env[`${name.toUpperCase()}_MANAGEMENT_PORT`] = String(managementPorts[name]);
    env[`${name.toUpperCase()}_URL`] = urls[name];
  }
  const label = options.label ?? 'subgraphs';

  if (!options.databaseUrl) {
    for (const name of SUBGRAPHS) env[`${name.toUpperCase()}_DATABASE_URL`] = 'pglite:memory';
    const ready = readyLine<{ urls: SubgraphUrls }>(label);
    const child = spawnNode(label, {
      args: ['bench/src/stack/embedded-subgraphs.ts'],
      env,
      onLine: ready.onLine,
      nodeFlags: options.nodeFlags,
    });
    try {
      await ready.ready(child);
    } catch (error) {
      await child.stop();
      throw error;
    }
    return { urls, management, mode: 'embedded (PGlite, one process)', children: [child], env, stop: () => child.stop() };
  }

  const databases = await createDatabases(options.databaseUrl, label);
  Object.assign(env, databases.env);
  const children: Child[] = [];
  const stop = async () => {
    for (const child of children.reverse()) await child.stop();
    await databases.drop();
  };
  try {
    // Seeding runs once, before the services start (as `npm run seed` does in full mode).
    const seeder = spawnNode(`${label}-seed`, { args: ['scripts/seed.ts'], env: { ...env, KAFKA_BROKERS: '' } });
    if ((await seeder.exited) !== 0) throw new Error(`seeding failed; see bench/results/logs.tmp/${label}-seed.log`);
    // catalog first: orders asks it for prices.
    for (const name of SUBGRAPHS) {
      const child = spawnNode(`${label}-${name}`, {
        args: [`subgraphs/${name}/src/main.ts`],
        env,
        nodeFlags: options.nodeFlags,
      });
      children.push(child);
      await waitForHttp(`${management[name]}/ready`, child);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { urls, management, mode: 'PostgreSQL (one process per subgraph)', children, env, stop };
}

/** A fresh database per service on the server of `adminUrl`; `drop()` removes them. */
export async function createDatabases(adminUrl: string, label: string, services: readonly SubgraphName[] = SUBGRAPHS) {
  const stamp = Date.now().toString(36);
  const names = new Map(services.map((name) => [name, `bench_${label.replace(/\W/g, '_')}_${name}_${stamp}`.toLowerCase()]));
  const admin = async (sql: string[]) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      for (const statement of sql) await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin([...names.values()].map((name) => `CREATE DATABASE "${name}"`));
  const env: Record<string, string> = {};
  for (const [service, name] of names) {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    env[`${service.toUpperCase()}_DATABASE_URL`] = url.toString();
  }
  return {
    env,
    // BENCH_KEEP_DATABASES=1 leaves them for inspection (outbox and inbox timestamps of every order); drop by hand.
    drop: async () => {
      if (process.env.BENCH_KEEP_DATABASES === '1') console.log(`  kept databases: ${[...names.values()].join(', ')}`);
      else await admin([...names.values()].map((name) => `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

export interface Gateway {
  name: string;
  url: string;
  child: Child;
  stop(): Promise<void>;
}

export interface OurGateway extends Gateway {
  /** Its management base URL (`/health`, `/ready`, `/metrics`; the graph port answers 404 there). */
  managementUrl: string;
}

export interface OurGatewayOptions {
  name: string;
  subgraphs: SubgraphUrls;
  responseCache: boolean;
  nodeFlags?: string[];
  env?: Record<string, string | undefined>;
}

/** Our gateway (`gateway/src/main.ts`) as its own process, configured as in production. */
export async function startOurGateway(options: OurGatewayOptions): Promise<OurGateway> {
  const port = await freePort();
  const managementPort = await freePort();
  const child = spawnNode(options.name, {
    args: ['gateway/src/main.ts'],
    nodeFlags: options.nodeFlags,
    env: {
      ...jwtEnv,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      GATEWAY_MANAGEMENT_PORT: String(managementPort),
      ...Object.fromEntries(SUBGRAPHS.map((name) => [`${name.toUpperCase()}_URL`, options.subgraphs[name]])),
      GATEWAY_RESPONSE_CACHE: String(options.responseCache),
      // One load generator on one address: the per-client limit would otherwise refuse most of the load.
      GATEWAY_RATE_LIMIT_POINTS: '1000000000',
      // Full mode's Redis (response cache, APQ, rate-limit counters) when BENCH_REDIS_URL is set, under
      // a prefix of its own; otherwise the in-memory store and limiter of embedded mode.
      REDIS_URL: process.env.BENCH_REDIS_URL || undefined,
      GATEWAY_REDIS_PREFIX: `bench-${RUN_ID}:`,
      KAFKA_BROKERS: undefined,
      ...options.env,
    },
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  await waitForHttp(`${managementUrl}/ready`, child);
  return { name: options.name, url, managementUrl, child, stop: () => child.stop() };
}

/** Hive Gateway's config: it signs a subgraph access token onto every subgraph call, as our gateway does. */
export const HIVE_CONFIG_FILE = path.join(BENCH_DIR, 'src', 'stack', 'hive-gateway.config.mjs');

/** The environment HIVE_CONFIG_FILE reads: the keyring, and which subgraph each URL is (the token's audience). */
export function hiveGatewayEnv(subgraphs: SubgraphUrls): Record<string, string> {
  return {
    SUBGRAPH_AUTH_KEYS: jwtEnv.SUBGRAPH_AUTH_KEYS!,
    BENCH_SUBGRAPH_AUDIENCES: JSON.stringify(Object.fromEntries(SUBGRAPHS.map((name) => [subgraphs[name], name]))),
  };
}

/**
 * Hive Gateway's CLI as its own process (one worker, its defaults), serving the same supergraph file —
 * a copy whose subgraph URLs point at where the benchmark's subgraphs listen — with one plugin that
 * presents the subgraph access token (the subgraphs answer nothing else).
 */
export async function startHiveGateway(name: string, subgraphs: SubgraphUrls, nodeFlags: string[] = []): Promise<Gateway> {
  const port = await freePort();
  mkdirSync(WORK_DIR, { recursive: true });
  const supergraphFile = path.join(WORK_DIR, 'supergraph.hive.graphql');
  writeFileSync(supergraphFile, pointSupergraphAt(readFileSync(SUPERGRAPH_FILE, 'utf8'), subgraphs));
  const child = spawnNode(name, {
    typescript: false,
    nodeFlags,
    args: [
      path.join(REPO_ROOT, 'node_modules/@graphql-hive/gateway/dist/bin.js'),
      '--config-path',
      HIVE_CONFIG_FILE,
      'supergraph',
      supergraphFile,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--fork',
      '1',
    ],
    env: { NODE_ENV: 'production', ...hiveGatewayEnv(subgraphs) },
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  await waitForHttp(`http://127.0.0.1:${port}/readiness`, child);
  return { name, url, child, stop: () => child.stop() };
}

/** The supergraph with each `@join__graph(name: "x", url: "...")` pointing at the benchmark's subgraph x. */
export function pointSupergraphAt(sdl: string, subgraphs: SubgraphUrls): string {
  return sdl.replace(/@join__graph\(name: "(\w+)", url: "[^"]*"\)/g, (whole, name: string) =>
    name in subgraphs ? `@join__graph(name: "${name}", url: "${subgraphs[name as SubgraphName]}")` : whole,
  );
}

/** The ceiling: a bare node:http server answering every request with `body`. */
export async function startCeilingServer(name: string, body: string, headers?: [string, string][]): Promise<Gateway> {
  const port = await freePort();
  mkdirSync(WORK_DIR, { recursive: true });
  const bodyFile = path.join(WORK_DIR, `${name}-body.json`);
  writeFileSync(bodyFile, body);
  const args = ['bench/src/stack/ceiling-server.ts', String(port), bodyFile];
  if (headers) {
    const headersFile = path.join(WORK_DIR, `${name}-headers.json`);
    writeFileSync(headersFile, JSON.stringify(headers));
    args.push(headersFile);
  }
  const ready = readyLine<{ ready: true }>(name);
  const child = spawnNode(name, { args, onLine: ready.onLine });
  await ready.ready(child);
  return { name, url: `http://127.0.0.1:${port}/graphql`, child, stop: () => child.stop() };
}
