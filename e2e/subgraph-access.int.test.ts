/**
 * Subgraphs answer the gateway only, in full mode: every service its own process with NODE_ENV=production,
 * on real PostgreSQL (a fresh database each), Redis and Kafka (topics under a prefix of this run), started
 * as the benchmark and the fault tests start them (bench/src/stack). See subgraph-access.shared.ts.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { describeWithServers } from '@commerce/testkit';
import { REPO_ROOT } from '../bench/src/processes.ts';
import { jwtEnv, startOurGateway, startSubgraphs, type OurGateway, type Subgraphs } from '../bench/src/stack/stack.ts';
import { subgraphAccessSuite } from './subgraph-access.shared.ts';

jest.setTimeout(120_000);

describeWithServers(
  ['TEST_DATABASE_URL', 'TEST_REDIS_URL', 'TEST_KAFKA_BROKERS'],
  'subgraphs answer the gateway only (full mode: production, PostgreSQL, Redis, Kafka)',
  () => {
    const run = randomUUID().slice(0, 8);
    const fullMode = {
      NODE_ENV: 'production',
      REDIS_URL: process.env.TEST_REDIS_URL!,
      KAFKA_TOPIC_PREFIX: `gate-${run}.`,
      LOG_LEVEL: 'warn',
    };
    let subgraphs: Subgraphs | undefined;
    let gateway: OurGateway | undefined;

    beforeAll(async () => {
      subgraphs = await startSubgraphs({
        label: `gate-${run}`,
        databaseUrl: process.env.TEST_DATABASE_URL!,
        kafkaBrokers: process.env.TEST_KAFKA_BROKERS!,
        env: fullMode,
      });
      gateway = await startOurGateway({
        name: `gate-${run}-gateway`,
        subgraphs: subgraphs.urls,
        responseCache: true,
        env: {
          ...fullMode,
          KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!,
          GATEWAY_EVENTS_GROUP_ID: `gate-${run}-purge`,
          GATEWAY_REDIS_PREFIX: `gate-${run}:`,
        },
      });
    }, 240_000);
    afterAll(async () => {
      await gateway?.stop();
      await subgraphs?.stop();
    }, 60_000);

    subgraphAccessSuite(() => ({
      gatewayUrl: gateway!.url,
      gatewayReadyUrl: `${gateway!.managementUrl}/ready`,
      subgraphUrls: subgraphs!.urls,
      subgraphAuthKeys: jwtEnv.SUBGRAPH_AUTH_KEYS!,
    }));

    it('refuses to start a subgraph without SUBGRAPH_AUTH_KEYS, naming the variable, in one line', async () => {
      const env: Record<string, string> = { ...subgraphs!.env, ...fullMode, CATALOG_PORT: '0' };
      delete env.SUBGRAPH_AUTH_KEYS;
      const { code, output } = await runToExit(['--import', 'tsx', 'subgraphs/catalog/src/main.ts'], env);
      expect(code).toBe(1);
      const lines = output.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({
        level: 'fatal',
        msg: expect.stringMatching(/^invalid configuration: SUBGRAPH_AUTH_KEYS: required in production/),
      });
    });
  },
);

/** Runs node with `args` until it exits (at most 60 s); stdout and stderr together. */
function runToExit(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'SUBGRAPH_AUTH_KEYS'));
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...inherited, ...env } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
