// Event infrastructure chosen by configuration: Kafka when KAFKA_BROKERS is set, else the in-process bus;
// and the outbox relay every producing subgraph starts from its composition root.
import { Counter, Gauge, type Logger, type Registry } from '@commerce/platform';
import {
  InProcessEventBus,
  KafkaEventBus,
  OutboxRelay,
  TOPICS,
  withTopicPrefix,
  type DeadLetter,
  type EventBus,
  type OutboxBacklog,
  type OutboxDatabase,
  type OutboxRelayOptions,
} from '@commerce/events';
import type { ServiceConfig } from './config.ts';
import type { ServiceRuntime } from './runtime.ts';

/** Counts parked messages on the service's registry (and logs them; the Kafka bus logs its own). */
export function deadLetterReporter(registry: Registry, logger?: Logger): (letter: DeadLetter) => void {
  const name = 'events_dead_lettered_total';
  const counter =
    (registry.getSingleMetric(name) as Counter<'group' | 'topic'> | undefined) ??
    new Counter({
      name,
      help: 'Messages parked on a dead-letter topic',
      labelNames: ['group', 'topic'] as const,
      registers: [registry],
    });
  return (letter) => {
    counter.inc({ group: letter.groupId, topic: letter.topic });
    logger?.error({ ...letter }, 'event parked on the dead-letter topic');
  };
}

/**
 * The service's own bus: Kafka when brokers are configured (topics of every context created now, so a
 * missing broker fails the start with a clear error), otherwise an in-process bus.
 */
export async function createEventBus(config: ServiceConfig, logger: Logger, registry: Registry): Promise<EventBus> {
  if (config.kafkaBrokers.length === 0) {
    return new InProcessEventBus({ maxAttempts: config.events.maxAttempts, onDeadLetter: deadLetterReporter(registry, logger) });
  }
  const bus = new KafkaEventBus({
    brokers: config.kafkaBrokers,
    clientId: `${config.kafkaClientId}-${config.service}`,
    logger,
    partitions: config.events.topicPartitions,
    keyConcurrency: config.events.keyConcurrency,
    fetchMaxWaitMs: config.events.fetchMaxWaitMs,
    maxAttempts: config.events.maxAttempts,
    onDeadLetter: deadLetterReporter(registry),
  });
  const prefix = config.kafkaTopicPrefix;
  try {
    await bus.ensureTopics(Object.values(TOPICS).map((topic) => `${prefix}${topic}`));
  } catch (error) {
    await bus.close();
    throw new Error(`Kafka at ${config.kafkaBrokers.join(',')} is unreachable: ${(error as Error).message}`, { cause: error });
  }
  return withTopicPrefix(bus, prefix);
}

/**
 * Starts publishing the service's outbox through its bus; `runtime.close()` stops it. Call it from the
 * composition root with the service's Prisma client, hand `relay.notify` to whatever commits outbox rows
 * (so events leave at once instead of at the next poll), and stop the relay before disconnecting Prisma.
 * Registers `outbox_backlog_events` and `outbox_oldest_event_age_seconds` on the service's /metrics.
 */
export function startOutboxRelay(
  runtime: ServiceRuntime,
  prisma: OutboxDatabase,
  options: Partial<OutboxRelayOptions> = {},
): OutboxRelay {
  const registry = runtime.metrics.registry;
  const published = counter(registry, 'outbox_published_total', 'Outbox events published');
  const failures = counter(registry, 'outbox_publish_failures_total', 'Outbox events whose publish failed (they are retried)');
  const relay = new OutboxRelay(prisma, {
    publisher: runtime.bus,
    logger: runtime.logger.child({ component: 'outbox-relay' }),
    service: runtime.name,
    pollIntervalMs: runtime.config.events.outboxPollIntervalMs,
    onPublished: (count) => published.inc(count),
    onPublishFailed: (count) => failures.inc(count),
    ...options,
  });
  registerBacklogGauges(registry, relay);
  runtime.relays.push(relay);
  runtime.onClose(() => relay.stop());
  return relay.start();
}

function counter(registry: Registry, name: string, help: string): Counter {
  return (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [registry] });
}

/** Backlog gauges read at scrape time (one query per scrape, shared by both gauges). */
function registerBacklogGauges(registry: Registry, relay: OutboxRelay): void {
  if (registry.getSingleMetric('outbox_backlog_events')) return; // one relay per service reports
  let last: OutboxBacklog = { size: 0, oldestAgeSeconds: 0 };
  let pending: Promise<OutboxBacklog> | undefined;
  const read = () => {
    pending ??= relay
      .backlog()
      .then((backlog) => (last = backlog))
      .catch(() => last) // database unavailable: report the last known values
      .finally(() => (pending = undefined));
    return pending;
  };
  new Gauge({
    name: 'outbox_backlog_events',
    help: 'Outbox events not yet published',
    registers: [registry],
    async collect() {
      this.set((await read()).size);
    },
  });
  new Gauge({
    name: 'outbox_oldest_event_age_seconds',
    help: 'Age of the oldest unpublished outbox event',
    registers: [registry],
    async collect() {
      this.set((await read()).oldestAgeSeconds);
    },
  });
}
