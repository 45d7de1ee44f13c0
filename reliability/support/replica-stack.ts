/**
 * The whole graph with N processes of every service, as production runs it: N replicas of each subgraph
 * (each its own port and management port; one database per service, one consumer group per service on
 * the same topic prefix), a round-robin balancer per subgraph in front of its replicas (what a
 * Kubernetes Service does; the gateways and the subgraphs calling each other reach a service only
 * through it), and N gateways sharing one Redis prefix (response cache, purge epoch, rate-limit
 * counters) and one cache-purge consumer group.
 *
 * It runs on the shared PostgreSQL, Redis and Kafka under names of its own (fresh databases, a Redis
 * prefix, a Kafka topic and group prefix), and removes them on stop; it never stops those servers, only
 * the processes it started (by PID).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { freePort, spawnNode, waitForHttp, type Child } from '../../bench/src/processes.ts';
import {
  SUBGRAPHS,
  createDatabases,
  jwtEnv,
  startOurGateway,
  type OurGateway,
  type SubgraphName,
  type SubgraphUrls,
} from '../../bench/src/stack/stack.ts';
import type { DatabaseUrls } from '../../scripts/reconcile-snapshot.ts';
import type { GraphBody } from './fault-stack.ts';
import { RoundRobinBalancer } from './round-robin-balancer.ts';

export type Query = <Data = Record<string, unknown>>(
  text: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
  timeoutMs?: number,
) => Promise<{ status: number; body: GraphBody<Data>; headers: Headers }>;

export interface Replica {
  name: string;
  child: Child;
  port: number;
  managementUrl: string;
  /** Its Kafka client id as consumer-group members show it (`<KAFKA_CLIENT_ID>-<service>`). */
  kafkaClientId: string;
}

export interface GroupMember {
  clientId: string;
  /** Partitions assigned to it, over all the group's topics. */
  partitions: number;
}

export interface ReplicaStack {
  gateways: OurGateway[];
  replicas: Record<SubgraphName, Replica[]>;
  balancers: Record<SubgraphName, RoundRobinBalancer>;
  databaseUrls: DatabaseUrls;
  /** Prefix of every topic and consumer group of this stack. */
  topicPrefix: string;
  /** The graph through gateway `index`. */
  via(index: number): Query;
  /** The graph through the gateways in turn (one call each), as clients behind a balancer reach them. */
  query: Query;
  /** Requests sent through each gateway by `query`. */
  sentThrough: number[];
  kill(replica: Replica): Promise<void>;
  /** Members of the consumer group `group` (unprefixed, e.g. `catalog.saga`) as the broker describes it. */
  groupMembers(group: string): Promise<GroupMember[]>;
  /** Total partitions of the topics `group` consumes (what one member owns once it is alone). */
  groupPartitions(group: string): Promise<number>;
  stop(): Promise<void>;
}

export interface ReplicaStackOptions {
  label: string;
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string;
  replicas?: number;
  /** Extra environment for every subgraph replica. */
  subgraphEnv?: Record<string, string>;
  /** Extra environment for every gateway. */
  gatewayEnv?: Record<string, string>;
}

export async function startReplicaStack(options: ReplicaStackOptions): Promise<ReplicaStack> {
  const count = options.replicas ?? 2;
  const stamp = `${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;
  const topicPrefix = `${options.label}-${stamp}.`;
  const redisPrefix = `${options.label}-${stamp}:`;
  const kafka = new Kafka({
    clientId: `${options.label}-admin`,
    brokers: options.kafkaBrokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  const cleanup: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  };

  try {
    await admin.connect();
    cleanup.push(() => admin.disconnect());
    // Topics and groups of this run only (the broker is shared), then the admin client.
    cleanup.push(async () => {
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(topicPrefix));
      if (topics.length > 0) await admin.deleteTopics({ topics });
      const { groups } = await admin.listGroups();
      const ours = groups.map((group) => group.groupId).filter((id) => id.startsWith(topicPrefix));
      if (ours.length > 0) await admin.deleteGroups(ours);
    });
    cleanup.push(() => deleteRedisKeys(options.redisUrl, [redisPrefix, `users-${redisPrefix}`]));

    const databases = await createDatabases(options.databaseUrl, options.label);
    cleanup.push(() => databases.drop());

    const balancers = Object.fromEntries(SUBGRAPHS.map((name) => [name, undefined])) as unknown as Record<
      SubgraphName,
      RoundRobinBalancer
    >;
    const urls = {} as SubgraphUrls;
    for (const name of SUBGRAPHS) {
      balancers[name] = new RoundRobinBalancer(count);
      urls[name] = `http://127.0.0.1:${await balancers[name].listen()}/graphql`;
      cleanup.push(() => balancers[name].close());
    }

    const env: Record<string, string> = {
      ...jwtEnv,
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      KAFKA_BROKERS: options.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: topicPrefix,
      REDIS_URL: options.redisUrl,
      USERS_REDIS_PREFIX: `users-${redisPrefix}`,
      ...databases.env,
      ...options.subgraphEnv,
    };
    // Every service reaches another one through its balancer, never a replica directly.
    for (const name of SUBGRAPHS) env[`${name.toUpperCase()}_URL`] = urls[name];

    // Seeding runs once, before any replica starts (as `npm run seed` does in full mode).
    const seeder = spawnNode(`${options.label}-seed`, { args: ['scripts/seed.ts'], env: { ...env, KAFKA_BROKERS: '' } });
    cleanup.push(() => seeder.stop());
    if ((await seeder.exited) !== 0) throw new Error(`seeding failed; see bench/results/logs.tmp/${options.label}-seed.log`);

    const replicas = Object.fromEntries(SUBGRAPHS.map((name) => [name, [] as Replica[]])) as Record<SubgraphName, Replica[]>;
    // Replica 1 of every service, then replica 2, ...; catalog first in each round (orders asks it for prices).
    for (let i = 0; i < count; i++) {
      for (const name of SUBGRAPHS) {
        const clientId = `${options.label}-r${i + 1}`;
        const replica = await withFreshPorts(async (attempt) => {
          // Ports are picked just before the start: on a shared machine a port picked earlier may be
          // taken by the time the replica binds it (EADDRINUSE); then it starts again on new ones.
          const [port, managementPort] = [await freePort(), await freePort()];
          const replicaName = `${options.label}-${name}-r${i + 1}${attempt > 0 ? `-try${attempt + 1}` : ''}`;
          const child = spawnNode(replicaName, {
            args: [`subgraphs/${name}/src/main.ts`],
            env: {
              ...env,
              [`${name.toUpperCase()}_PORT`]: String(port),
              [`${name.toUpperCase()}_MANAGEMENT_PORT`]: String(managementPort),
              KAFKA_CLIENT_ID: clientId,
            },
          });
          cleanup.push(() => child.stop());
          const managementUrl = `http://127.0.0.1:${managementPort}`;
          await waitForHttp(`${managementUrl}/ready`, child);
          return { name: replicaName, child, port, managementUrl, kafkaClientId: `${clientId}-${name}` };
        });
        balancers[name].setBackend(i, replica.port);
        replicas[name].push(replica);
      }
    }

    const gateways: OurGateway[] = [];
    for (let i = 0; i < count; i++) {
      const gateway = await withFreshPorts((attempt) =>
        startOurGateway({
          name: `${options.label}-gateway-${i + 1}${attempt > 0 ? `-try${attempt + 1}` : ''}`,
          subgraphs: urls,
          responseCache: true,
          env: {
            LOG_LEVEL: 'info',
            REDIS_URL: options.redisUrl,
            GATEWAY_REDIS_PREFIX: redisPrefix,
            KAFKA_BROKERS: options.kafkaBrokers,
            KAFKA_TOPIC_PREFIX: topicPrefix,
            KAFKA_CLIENT_ID: `${options.label}-gw${i + 1}`,
            SUBGRAPH_TIMEOUT_MS: '5000',
            ...options.gatewayEnv,
          },
        }),
      );
      cleanup.push(() => gateway.stop());
      gateways.push(gateway);
    }

    const sentThrough = gateways.map(() => 0);
    const via =
      (index: number): Query =>
      async (text, variables = {}, headers = {}, timeoutMs = 30_000) => {
        const response = await fetch(gateways[index]!.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ query: text, variables }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        return { status: response.status, body: (await response.json()) as GraphBody<never>, headers: response.headers };
      };
    let turn = 0;
    const query: Query = (...args) => {
      const index = turn++ % gateways.length;
      sentThrough[index]!++;
      return via(index)(...args);
    };

    const describe = async (group: string) => {
      const { groups } = await admin.describeGroups([`${topicPrefix}${group}`]);
      return groups[0]!;
    };

    return {
      gateways,
      replicas,
      balancers,
      databaseUrls: {
        catalog: databases.env.CATALOG_DATABASE_URL!,
        users: databases.env.USERS_DATABASE_URL!,
        orders: databases.env.ORDERS_DATABASE_URL!,
        billing: databases.env.BILLING_DATABASE_URL!,
      },
      topicPrefix,
      via,
      query,
      sentThrough,
      async kill(replica) {
        replica.child.process.kill('SIGKILL');
        await replica.child.exited;
      },
      async groupMembers(group) {
        const description = await describe(group);
        // Members that joined but hold no assignment yet (mid-rebalance) count with 0 partitions.
        return description.members.map((member) => {
          const decoded =
            member.memberAssignment.length > 0 ? AssignerProtocol.MemberAssignment.decode(member.memberAssignment) : null;
          const partitions = Object.values(decoded?.assignment ?? {}).reduce((sum, list) => sum + list.length, 0);
          return { clientId: member.clientId, partitions };
        });
      },
      async groupPartitions(group) {
        const description = await describe(group);
        const topics = new Set<string>();
        for (const member of description.members) {
          if (member.memberMetadata.length === 0) continue;
          for (const topic of AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.topics ?? []) topics.add(topic);
        }
        if (topics.size === 0) return 0;
        const metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
        return metadata.topics.reduce((sum, topic) => sum + topic.partitions.length, 0);
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Starts something on freshly picked ports, up to 3 times (a port picked free may be taken before it is bound). */
async function withFreshPorts<T>(start: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await start(attempt);
    } catch (error) {
      if (attempt >= 2) throw error;
    }
  }
}

/** Deletes this run's keys (SCAN by prefix: the Redis is shared, never FLUSHDB). */
async function deleteRedisKeys(url: string, prefixes: string[]): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
