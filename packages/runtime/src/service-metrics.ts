// Operational gauges every subgraph's /metrics carries besides HTTP and outbox ones: its database pool
// (pg's counters) and its consumer groups' lag and dead-letter depth (measured on the bus itself).
import { Gauge, type Logger, type Registry } from '@commerce/platform';
import type { Database } from '@commerce/database';
import {
  InProcessEventBus,
  KafkaConsumerLag,
  inProcessConsumerLag,
  registerConsumerLagMetrics,
  trackingConsumerGroups,
  type ConsumerLagSource,
  type EventBus,
} from '@commerce/events';
import type { ServiceConfig } from './config.ts';

/**
 * `db_pool_waiting_requests`: queries waiting for a pooled connection (0 on PGlite, which has no pool);
 * `db_pool_connections{state}`: open connections, idle or in use (PostgreSQL only).
 */
export function registerDatabasePoolMetrics(registry: Registry, database: Database): void {
  if (registry.getSingleMetric('db_pool_waiting_requests')) return;
  new Gauge({
    name: 'db_pool_waiting_requests',
    help: 'Queries waiting for a database connection from the pool',
    registers: [registry],
    collect() {
      this.set(database.poolStats?.().waiting ?? 0);
    },
  });
  if (!database.poolStats) return;
  const stats = database.poolStats;
  new Gauge({
    name: 'db_pool_connections',
    help: 'Open database connections in the pool, by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const { total, idle } = stats();
      this.set({ state: 'idle' }, idle);
      this.set({ state: 'in_use' }, Math.max(0, total - idle));
    },
  });
}

/**
 * Wraps the service's bus so the groups it subscribes are known, and reports their lag and dead-letter
 * depth: through a Kafka admin client when the service has its own Kafka bus (group and topic names carry
 * the topic prefix, as on the broker), from the in-process bus otherwise. Returns the bus to use, whether
 * a consumer group is this service's (`ownsGroup`, with the name as the bus reports it), and a function
 * that stops measuring.
 */
export function withConsumerLagMetrics(
  bus: EventBus,
  options: { config: ServiceConfig; registry: Registry; logger: Logger; ownKafkaBus: boolean },
): { bus: EventBus; ownsGroup: (groupId: string) => boolean; stop: () => Promise<void> } {
  const { config, registry, logger } = options;
  let source: ConsumerLagSource | undefined;
  let prefix = '';
  if (bus instanceof InProcessEventBus) source = inProcessConsumerLag(bus);
  else if (options.ownKafkaBus) {
    source = new KafkaConsumerLag({ brokers: config.kafkaBrokers, clientId: `${config.kafkaClientId}-${config.service}-lag` });
    prefix = config.kafkaTopicPrefix;
  }
  const tracking = trackingConsumerGroups(bus);
  const groups = () =>
    new Map([...tracking.groups()].map(([group, topics]) => [`${prefix}${group}`, topics.map((topic) => `${prefix}${topic}`)]));
  const ownsGroup = (groupId: string) => groups().has(groupId);
  if (!source) return { bus: tracking.bus, ownsGroup, stop: async () => {} }; // a bus handed in that this runtime cannot measure
  const stop = registerConsumerLagMetrics(registry, { source, groups, logger: logger.child({ component: 'consumer-lag' }) });
  return { bus: tracking.bus, ownsGroup, stop };
}
