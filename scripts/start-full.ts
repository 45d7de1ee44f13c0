/**
 * `npm run start:full`: full mode on one machine without Docker — every service as its own process
 * against PostgreSQL, Redis and Kafka (defaults: the local servers and the broker of `ci/kafka/start.sh`).
 * It creates the databases that are missing; each service applies its migrations and creates its topics
 * as it starts. It seeds nothing (full mode never creates default credentials): the banner says how to
 * create the first admin and import the catalog. Ctrl-C or SIGTERM stops every process it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDatabase } from '@commerce/database';
import { generateSigningKey, generateSubgraphKeys } from '@commerce/platform';
import { loadServiceConfig, REPO_ROOT, SERVICE_NAMES, type ServiceName } from '@commerce/runtime';
import { loadGatewayConfig } from '../gateway/src/config.ts';

type Env = Record<string, string | undefined>;

export const FULL_MODE_DEFAULTS = {
  postgres: 'postgresql://postgres@127.0.0.1:5432',
  redis: 'redis://127.0.0.1:6379',
  kafka: '127.0.0.1:9092',
} as const;

/** Where a URL points, without its password (banners and logs never show one). */
export function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

/** The environment of the full-mode run: what the operator set, the local defaults for the rest. */
export function fullModeEnv(source: Env): Env {
  const env: Env = { ...source };
  env.NODE_ENV ??= 'production';
  env.REDIS_URL ??= FULL_MODE_DEFAULTS.redis;
  env.KAFKA_BROKERS ??= FULL_MODE_DEFAULTS.kafka;
  for (const name of SERVICE_NAMES) {
    const variable = `${name.toUpperCase()}_DATABASE_URL`;
    env[variable] ??= env.DATABASE_URL ?? `${FULL_MODE_DEFAULTS.postgres}/commerce_${name}`;
  }
  return env;
}

/**
 * The JWT key pair and the subgraph access keyring: the operator's (JWT_PRIVATE_KEY + JWT_KEY_ID,
 * SUBGRAPH_AUTH_KEYS) when set, else generated once and kept under `<DATA_DIR>/full/` (mode 600), so
 * tokens survive a restart.
 */
export function fullModeKeys(env: Env): { env: Env; generated: string | undefined } {
  if (env.JWT_PRIVATE_KEY && env.SUBGRAPH_AUTH_KEYS) return { env, generated: undefined };
  const file = path.join(env.DATA_DIR ?? path.join(REPO_ROOT, '.data'), 'full', 'keys.json');
  let keys: { jwtKeyId: string; jwtPrivateKey: string; subgraphAuthKeys: string };
  if (existsSync(file)) keys = JSON.parse(readFileSync(file, 'utf8')) as typeof keys;
  else {
    const signing = generateSigningKey('full-1');
    keys = { jwtKeyId: signing.kid, jwtPrivateKey: signing.privateKeyPem, subgraphAuthKeys: generateSubgraphKeys('full-1') };
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  const out = { ...env };
  if (!out.JWT_PRIVATE_KEY) {
    out.JWT_PRIVATE_KEY = keys.jwtPrivateKey;
    out.JWT_KEY_ID = keys.jwtKeyId;
  }
  out.SUBGRAPH_AUTH_KEYS ||= keys.subgraphAuthKeys;
  return { env: out, generated: file };
}

/** Creates each service's database when it does not exist yet; answers the names it created. */
export async function ensureDatabases(urls: string[]): Promise<string[]> {
  const created: string[] = [];
  for (const url of new Set(urls)) if (await ensureDatabase(url)) created.push(new URL(url).pathname.slice(1));
  return created;
}

interface Started {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

function startProcess(name: string, entry: string, env: Env): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env: Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)) as NodeJS.ProcessEnv,
    // Their JSON log lines go to this terminal as they are (each line names its service).
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  return { name, child, exited };
}

async function stopProcess(started: Started): Promise<void> {
  if (started.child.exitCode !== null || started.child.signalCode !== null) return;
  started.child.kill('SIGTERM');
  const killed = setTimeout(() => started.child.kill('SIGKILL'), 20_000);
  await started.exited;
  clearTimeout(killed);
}

async function waitReady(url: string, started: Started, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: number | null | undefined;
  void started.exited.then((code) => (exit = code));
  while (Date.now() < deadline) {
    if (exit !== undefined) throw new Error(`${started.name} exited (code ${exit}) before it was ready; its log is above`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${started.name}: ${url} did not answer within ${timeoutMs / 1000} s`);
}

const hostOf = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

async function main(): Promise<void> {
  const began = Date.now();
  const base = fullModeEnv(process.env);
  const { env, generated } = fullModeKeys(base);
  const subgraphs = SERVICE_NAMES.map((name) => {
    // Only the gateway faces clients: the subgraphs listen on loopback and answer calls the gateway signs.
    const config = loadServiceConfig(name, { ...env, HOST: '127.0.0.1' });
    return {
      name,
      graph: `http://127.0.0.1:${config.port}/graphql`,
      management: `http://${hostOf(config.management.host)}:${config.management.port}`,
      database: config.databaseUrl,
    };
  });
  const subgraphUrls = Object.fromEntries(subgraphs.map((s) => [`${s.name.toUpperCase()}_URL`, s.graph]));
  const users = subgraphs.find((s) => s.name === 'users')!;
  const shared: Env = {
    ...env,
    ...subgraphUrls,
    // Verifiers fetch the users service's public keys, as in docker-compose.yml and Kubernetes.
    JWT_JWKS_URL: env.JWT_JWKS_URL ?? users.graph.replace(/\/graphql$/, '/.well-known/jwks.json'),
  };
  const gatewayHost = env.HOST ?? '127.0.0.1';
  const gatewayConfig = loadGatewayConfig({ ...shared, HOST: gatewayHost });
  const gatewayUrl = `http://${hostOf(gatewayHost)}:${gatewayConfig.port}/graphql`;
  const gatewayManagement = `http://${hostOf(gatewayConfig.management.host)}:${gatewayConfig.management.port}`;

  // The gateway must know where each subgraph answers before it starts: no "any free port" here.
  const zero = [...subgraphs.flatMap((s) => [s.graph, s.management]), gatewayUrl, gatewayManagement].filter((url) =>
    /:0(\/|$)/.test(url),
  );
  if (zero.length > 0)
    throw new Error(`every port must be fixed (a <SERVICE>_PORT or _MANAGEMENT_PORT is 0): ${zero.join(', ')}`);

  const created = await ensureDatabases(subgraphs.map((s) => s.database)).catch((error: Error) => {
    throw new Error(`PostgreSQL: could not check or create the databases: ${error.message}`);
  });

  const running: Started[] = [];
  let gateway: Started;
  let stopping: Promise<void> | undefined;
  const stopAll = (code: number) => {
    stopping ??= (async () => {
      for (const started of [...running].reverse()) await stopProcess(started);
      process.exit(code);
    })();
    return stopping;
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  process.on('SIGHUP', () => void stopAll(0));

  try {
    // users first (the others fetch its public keys), then the other three side by side.
    const startSubgraph = async (name: ServiceName) => {
      const subgraph = subgraphs.find((s) => s.name === name)!;
      const childEnv: Env = { ...shared, HOST: '127.0.0.1' };
      // users signs with its own key: a JWKS URL pointing at itself is not needed there.
      if (name === 'users' && !env.JWT_JWKS_URL) delete childEnv.JWT_JWKS_URL;
      const started = startProcess(name, `subgraphs/${name}/src/main.ts`, childEnv);
      running.push(started);
      await waitReady(`${subgraph.management}/health`, started);
    };
    await startSubgraph('users');
    const others = await Promise.allSettled(SERVICE_NAMES.filter((n) => n !== 'users').map(startSubgraph));
    const failed = others.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    gateway = startProcess('gateway', 'gateway/src/main.ts', { ...shared, HOST: gatewayHost });
    running.push(gateway);
    await waitReady(`${gatewayManagement}/ready`, gateway);
  } catch (error) {
    console.error(`start:full failed: ${(error as Error).message}`);
    await stopAll(1);
    return;
  }
  // A service that dies later takes the others down with it: a half-running shop is worse than none.
  for (const started of running) {
    void started.exited.then((code) => {
      if (stopping) return;
      console.error(`${started.name} exited (code ${code}); stopping the others`);
      void stopAll(1);
    });
  }

  const playground = gatewayUrl.replace(/\/graphql$/, '/playground');
  const lines = [
    '',
    `  commerce-graph is up (full mode) in ${((Date.now() - began) / 1000).toFixed(1)} s — one process per service`,
    `  GraphQL:     ${gatewayUrl}`,
    `  Playground:  ${playground}`,
    `  gateway      management ${gatewayManagement}  (/health, /ready, /metrics)  pid ${gateway.child.pid}`,
    ...subgraphs.map((s) => {
      const pid = running.find((r) => r.name === s.name)?.child.pid;
      return `  ${s.name.padEnd(12)} ${s.graph}  management ${s.management}  pid ${pid}  (loopback; answers the gateway only)`;
    }),
    `  PostgreSQL:  ${subgraphs.map((s) => `${s.name} ${withoutPassword(s.database)}`).join(', ')}${created.length > 0 ? `  (created ${created.join(', ')})` : ''}`,
    `  Redis:       ${withoutPassword(env.REDIS_URL!)}`,
    `  Kafka:       ${env.KAFKA_BROKERS}${env.KAFKA_TOPIC_PREFIX ? `  (topic prefix ${env.KAFKA_TOPIC_PREFIX})` : ''}`,
    `  NODE_ENV:    ${env.NODE_ENV}`,
    generated
      ? `  Keys:        JWT signing key and SUBGRAPH_AUTH_KEYS generated for this machine, kept in ${generated} (mode 600);`
      : `  Keys:        JWT_PRIVATE_KEY and SUBGRAPH_AUTH_KEYS from the environment`,
    ...(generated ? ['               set JWT_PRIVATE_KEY, JWT_KEY_ID and SUBGRAPH_AUTH_KEYS to use your own.'] : []),
    '',
    '  No accounts and no products yet (full mode creates no default credentials). Next:',
    '    first admin:     ADMIN_PASSWORD=... npm run create-admin -w @commerce/users -- --email you@shop.example --name "Shop Ops"',
    '    catalog import:  npm run seed -- --import-catalog   (the sample catalog, into an empty catalog database)',
    '  (with the same *_DATABASE_URL variables as this run). Ctrl-C stops every service.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main().catch((error: unknown) => {
    console.error(`start:full failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
