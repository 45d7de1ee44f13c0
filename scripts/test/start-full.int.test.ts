/**
 * The operator's path in full mode (the CI step of issue 21 item 8): `npm run seed -- --import-catalog`
 * loads the catalog in production, then `npm run start:full` (scripts/run.mjs start:full) starts every
 * service as its own process on the real PostgreSQL, Redis and Kafka — creating its databases, under a
 * topic and Redis prefix of its own — prints the full-mode banner, checks out one order through the
 * gateway to CONFIRMED, and on SIGINT stops every process it started.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describeWithServers } from '@commerce/testkit/integration';

jest.setTimeout(180_000);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICES = ['catalog', 'users', 'orders', 'billing'] as const;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A process's identity: its PID and its start time (field 22 of /proc/<pid>/stat), since PIDs are reused
 * quickly on a busy machine (pid_max 32768); undefined once it has ended (or is a zombie).
 */
function identity(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
    return fields[0] === 'Z' ? undefined : `${pid}@${fields[19]}`;
  } catch {
    return undefined;
  }
}

/** Every process below `root` now (Linux `ps`): start:full's services are grandchildren of the npm wrapper. */
function descendants(root: number): number[] {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of rows)
      if (ppid === parent && !found.includes(pid)) {
        found.push(pid);
        queue.push(pid);
      }
  }
  return found;
}

/** Runs `npm run start:full` (its wrapper) and remembers every process it starts, to check they all end. */
function startFull(env: Record<string, string>) {
  const child = spawn(process.execPath, ['scripts/run.mjs', 'start:full'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen = new Map<number, string>();
  const output = { text: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.text += chunk.toString()));
  const track = setInterval(() => {
    for (const pid of descendants(child.pid!)) {
      const id = identity(pid);
      if (id && !seen.has(pid)) seen.set(pid, id);
    }
  }, 300);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      clearInterval(track);
      resolve(code);
    }),
  );
  // The processes it started that still run (the same PID with the same start time).
  const running = () => [...seen].filter(([pid, id]) => identity(pid) === id).map(([pid]) => pid);
  // The services end before start:full exits; helpers of theirs (tsx's esbuild) notice a moment later.
  const stillRunning = async () => {
    for (let waited = 0; running().length > 0 && waited < 5_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    return running();
  };
  return { child, output, exited, seen, stillRunning };
}

describeWithServers(['TEST_DATABASE_URL', 'TEST_REDIS_URL', 'TEST_KAFKA_BROKERS'], 'npm run start:full', () => {
  const run = `sf${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const databaseUrl = (service: string) => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${run}_${service}`;
    return url.toString();
  };
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'start-full-'));

  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    for (const service of SERVICES) await admin.query(`DROP DATABASE IF EXISTS "${run}_${service}" WITH (FORCE)`);
    await admin.end();
    // The run's topics and Redis keys carry its own prefix: leave the shared servers as they were.
    const kafka = new Kafka({
      clientId: `${run}-cleanup`,
      brokers: process.env.TEST_KAFKA_BROKERS!.split(','),
      logLevel: logLevel.NOTHING,
    }).admin();
    await kafka.connect();
    try {
      const topics = (await kafka.listTopics()).filter((topic) => topic.startsWith(`${run}.`));
      if (topics.length > 0) await kafka.deleteTopics({ topics, timeout: 10_000 });
    } finally {
      await kafka.disconnect();
    }
    const redis = new Redis(process.env.TEST_REDIS_URL!);
    try {
      const keys = await redis.keys(`${run}:*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  async function fullEnv(): Promise<{ env: Record<string, string>; ports: Record<string, string> }> {
    const names = ['GATEWAY', ...SERVICES.map((s) => s.toUpperCase())];
    const ports: Record<string, string> = {};
    for (const name of names) {
      ports[`${name}_PORT`] = String(await freePort());
      ports[`${name}_MANAGEMENT_PORT`] = String(await freePort());
    }
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      ...ports,
      ...Object.fromEntries(SERVICES.map((s) => [`${s.toUpperCase()}_DATABASE_URL`, databaseUrl(s)])),
      REDIS_URL: process.env.TEST_REDIS_URL!,
      KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!,
      KAFKA_TOPIC_PREFIX: `${run}.`,
      GATEWAY_REDIS_PREFIX: `${run}:gateway:`,
      USERS_REDIS_PREFIX: `${run}:users:`,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    };
    for (const variable of [
      'NODE_ENV',
      'JWT_PRIVATE_KEY',
      'JWT_KEY_ID',
      'JWT_PUBLIC_KEYS',
      'JWT_JWKS_URL',
      'SUBGRAPH_AUTH_KEYS',
      'HOST',
    ])
      delete env[variable];
    return { env, ports };
  }

  test('starts every service as its own process, checks out an order to CONFIRMED, and stops them all on SIGINT', async () => {
    const { env, ports } = await fullEnv();
    const began = Date.now();

    // The catalog import works in production and needs nothing but the database (created here by start:full
    // below would be too late: it runs first, as an operator would after creating the database).
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${run}_catalog"`);
    await admin.end();
    const imported = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/seed.ts', '--import-catalog'], {
      cwd: ROOT,
      env: { ...env, NODE_ENV: 'production' },
      encoding: 'utf8',
    });
    expect({ status: imported.status, stderr: imported.stderr }).toEqual({ status: 0, stderr: '' });
    expect(imported.stdout).toMatch(/catalog: \d+ products in \d+ categories/);
    console.log(`catalog import: ${((Date.now() - began) / 1000).toFixed(1)} s`);

    const { child, output: out, exited, seen, stillRunning } = startFull(env);
    const text = () => out.text;
    let pids: number[] = [];
    try {
      const started = Date.now();
      const graphqlUrl = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const match = /commerce-graph is up \(full mode\)[\s\S]*GraphQL:\s+(http:\/\/\S+\/graphql)/.exec(text());
          if (match && /Ctrl-C stops every service/.test(text())) {
            clearInterval(timer);
            resolve(match[1]!);
          }
        }, 100);
        void exited.then((code) => {
          clearInterval(timer);
          reject(new Error(`start:full exited with ${code} before it was up:\n${text()}`));
        });
      });
      console.log(`start:full up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(graphqlUrl).toBe(`http://127.0.0.1:${ports.GATEWAY_PORT}/graphql`);
      // The banner: each service's graph and management address, the servers it uses, no secrets.
      for (const service of SERVICES) {
        expect(text()).toMatch(
          new RegExp(
            `${service}\\s+http://127\\.0\\.0\\.1:${ports[`${service.toUpperCase()}_PORT`]}/graphql\\s+management http://127\\.0\\.0\\.1:${ports[`${service.toUpperCase()}_MANAGEMENT_PORT`]}`,
          ),
        );
        expect(text()).toContain(databaseUrl(service));
      }
      expect(text()).toContain(`Redis:       ${process.env.TEST_REDIS_URL}`);
      expect(text()).toContain(`Kafka:       ${process.env.TEST_KAFKA_BROKERS}`);
      expect(text()).toContain('NODE_ENV:    production');
      expect(text()).toContain('create-admin');
      expect(text()).not.toMatch(/PRIVATE KEY|full-1:[A-Za-z0-9_-]{20}/);
      // The generated keys are kept for the next start, readable by the owner only.
      expect(statSync(path.join(dataDir, 'full', 'keys.json')).mode & 0o777).toBe(0o600);
      pids = [...text().matchAll(/\bpid (\d+)/g)].map((m) => Number(m[1]));
      expect(pids).toHaveLength(5);

      const call = async <T>(query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> => {
        const response = await fetch(graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await response.json()) as { data?: T; errors?: unknown[] };
        if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
        return body.data!;
      };
      const checkoutStarted = Date.now();
      const { register } = await call<{ register: { accessToken: string } }>(
        'mutation ($email: String!, $password: String!, $name: String!) { register(email: $email, password: $password, name: $name) { accessToken } }',
        { email: `full-${randomUUID()}@example.test`, password: 'correct horse battery', name: 'Full Mode' },
      );
      const token = register.accessToken;
      const { addAddress } = await call<{ addAddress: { id: string } }>(
        'mutation ($input: AddressInput!) { addAddress(input: $input) { id } }',
        { input: { recipientName: 'Full Mode', line1: '1 Broker Street', city: 'Berlin', postalCode: '10115', country: 'DE' } },
        token,
      );
      const { addPaymentMethod } = await call<{ addPaymentMethod: { id: string } }>(
        'mutation ($token: String!) { addPaymentMethod(token: $token) { id } }',
        { token: 'tok_visa' },
        token,
      );
      const { products } = await call<{ products: { nodes: { id: string }[] } }>(
        '{ products(first: 1, filter: { inStock: true }) { nodes { id } } }',
      );
      expect(products.nodes).toHaveLength(1);
      const { placeOrder } = await call<{ placeOrder: { id: string } }>(
        `mutation ($lines: [OrderLineInput!]!, $pm: ID!, $address: ID!, $key: String!) {
           placeOrder(lines: $lines, paymentMethodId: $pm, shippingAddressId: $address, idempotencyKey: $key) { id }
         }`,
        {
          lines: [{ productId: products.nodes[0]!.id, quantity: 1 }],
          pm: addPaymentMethod.id,
          address: addAddress.id,
          key: randomUUID(),
        },
        token,
      );
      let status = '';
      const deadline = Date.now() + 60_000;
      while (status !== 'CONFIRMED' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        status = (
          await call<{ order: { status: string } }>(
            'query ($id: ID!) { order(id: $id) { status } }',
            { id: placeOrder.id },
            token,
          )
        ).order.status;
      }
      expect(status).toBe('CONFIRMED');
      console.log(`checkout to CONFIRMED: ${((Date.now() - checkoutStarted) / 1000).toFixed(1)} s`);
    } finally {
      child.kill('SIGINT');
      const stopStarted = Date.now();
      const code = await exited;
      console.log(
        `stopped in ${((Date.now() - stopStarted) / 1000).toFixed(1)} s; total ${((Date.now() - began) / 1000).toFixed(1)} s`,
      );
      expect({ code, fatal: /"level":(60|"fatal")/.test(text()) }).toEqual({ code: 0, fatal: false });
      // Every process it started is gone once it has exited: the five the banner names, and any other.
      expect(pids.every((pid) => seen.has(pid))).toBe(true);
      expect(await stillRunning()).toEqual([]);
    }
  });

  test('a service that cannot start stops the ones already running, and start:full exits 1', async () => {
    const { env } = await fullEnv();
    // billing refuses its configuration while users runs and catalog and orders are starting.
    const { output, exited, seen, stillRunning } = startFull({ ...env, BILLING_PROVIDER: 'bogus' });
    const code = await exited;
    console.log(`failed start: exited after ${seen.size} processes were started`);
    expect(code).toBe(1);
    expect(output.text).toMatch(/start:full failed: billing exited \(code 1\)/);
    expect(output.text).not.toContain('commerce-graph is up');
    expect(seen.size).toBeGreaterThanOrEqual(3); // start-full itself, users, and the ones starting beside billing
    expect(await stillRunning()).toEqual([]);
  });
});
