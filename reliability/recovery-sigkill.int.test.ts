/**
 * Recovery after a SIGKILL, measured (issue 21): an orders process in full mode (PostgreSQL, Kafka) is
 * SIGKILLed once its consumer group has settled, and started again; the test times how long the new
 * process takes to answer /ready. Its consumer group cannot settle before the dead member's session
 * expires (the broker cannot tell a dead process from a slow one), so the API must not wait for it:
 * the target is ready ≤ 5 s after the restart. The test also prints when the saga's group had settled
 * again, for the record.
 */
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { Kafka, logLevel } from 'kafkajs';
import { describeWithServers } from '@commerce/testkit';
import { createDatabases, jwtEnv } from '../bench/src/stack/stack.ts';
import { freePort, spawnNode, waitForHttp, type Child } from '../bench/src/processes.ts';

jest.setTimeout(180_000);

const TARGET_MS = 5_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithServers(
  ['TEST_DATABASE_URL', 'TEST_KAFKA_BROKERS'],
  'recovery: a SIGKILLed orders process is ready again within seconds',
  () => {
    const label = `recovery-${randomUUID().slice(0, 6)}`;
    const prefix = `${label}.`;
    const kafka = new Kafka({ clientId: label, brokers: process.env.TEST_KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    let databases: Awaited<ReturnType<typeof createDatabases>> | undefined;
    let child: Child | undefined;

    afterAll(async () => {
      await child?.stop();
      await databases?.drop();
      await admin.disconnect();
    }, 60_000);

    /** The orders saga's group on the broker: its state and members. */
    const sagaGroup = async () => {
      const { groups } = await admin.describeGroups([`${prefix}orders.saga`]);
      return { state: groups[0]!.state, members: groups[0]!.members.length };
    };
    const settled = async () => {
      const group = await sagaGroup().catch(() => undefined);
      return group?.state === 'Stable' && group.members === 1;
    };

    it(`answers /ready within ${TARGET_MS / 1000} s of being started again after a SIGKILL`, async () => {
      databases = await createDatabases(process.env.TEST_DATABASE_URL!, label, ['orders']);
      await admin.connect();
      const port = await freePort();
      const managementPort = await freePort();
      const env = {
        ...jwtEnv,
        ...databases.env,
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        ORDERS_PORT: String(port),
        ORDERS_MANAGEMENT_PORT: String(managementPort),
        KAFKA_BROKERS: process.env.TEST_KAFKA_BROKERS!,
        KAFKA_TOPIC_PREFIX: prefix,
      };
      const ready = `http://127.0.0.1:${managementPort}/ready`; // the management port, as probes read it
      const started = Date.now();
      child = spawnNode(`${label}-orders`, { args: ['subgraphs/orders/src/main.ts'], env });
      await waitForHttp(ready, child);
      const firstReadyMs = Date.now() - started;
      for (const deadline = Date.now() + 60_000; !(await settled()) && Date.now() < deadline;) await pause(200);
      expect(await settled()).toBe(true);

      child.process.kill('SIGKILL');
      await child.exited;
      const restarted = Date.now();
      child = spawnNode(`${label}-orders-restart`, { args: ['subgraphs/orders/src/main.ts'], env });
      await waitForHttp(ready, child, 60_000);
      const readyMs = Date.now() - restarted;
      const readiness = (await (await fetch(ready)).json()) as Record<string, unknown>;
      for (const deadline = Date.now() + 60_000; !(await settled()) && Date.now() < deadline;) await pause(200);
      const groupMs = Date.now() - restarted;
      console.log(
        `[recovery] orders first start: /ready after ${firstReadyMs} ms; ` +
          `SIGKILLed and started again: /ready after ${readyMs} ms (target ${TARGET_MS} ms), ` +
          `first readiness answer ${JSON.stringify(readiness)}; orders.saga group settled again after ${groupMs} ms`,
      );
      // Ready without waiting for the group (which settles only once the dead member's session expired)...
      expect(readiness.starting).toEqual(['consumer group orders.saga']);
      expect(groupMs - readyMs).toBeGreaterThan(10_000);
      // ...and within the target, or — on a machine so loaded that even a first start takes longer —
      // no slower than a first start (node boot and module loading alone took ~4 s at load average 20).
      expect(readyMs).toBeLessThanOrEqual(Math.max(TARGET_MS, firstReadyMs + 2_000));
    });
  },
);
