import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createLogger, generateSubgraphKeys, type Logger, type RunningServer } from '@commerce/platform';
import { InProcessEventBus } from '@commerce/events';
import type { Database } from '@commerce/database';
import { createServiceRuntime, type RuntimeOverrides, type ServiceRuntime } from './runtime.ts';
import { REPO_ROOT, SERVICE_NAMES, type ServiceName } from './services.ts';

/** What every subgraph's composition root (`subgraphs/<name>/src/main.ts`) exports. */
export interface SubgraphModule {
  startService(runtime: ServiceRuntime): Promise<RunningServer>;
  /** Loads demo data into an empty database; returns lines to show the newcomer. */
  seedDemoData?(runtime: ServiceRuntime): Promise<string[]>;
  /** catalog only: the sample catalog into an empty database, production included (no credentials in it). */
  importCatalog?(database: Pick<Database, 'adapter'>): Promise<string[]>;
}

export const subgraphEntry = (name: ServiceName) => path.join(REPO_ROOT, 'subgraphs', name, 'src', 'main.ts');

export async function loadSubgraphModule(name: ServiceName): Promise<SubgraphModule> {
  return (await import(pathToFileURL(subgraphEntry(name)).href)) as SubgraphModule;
}

/** Subgraphs that exist in this checkout (all four once every service is built). */
export const availableSubgraphs = () => SERVICE_NAMES.filter((name) => existsSync(subgraphEntry(name)));

export interface EmbeddedStack {
  services: RunningServer[];
  /** The shared in-process bus; undefined when KAFKA_BROKERS makes every service use Kafka instead. */
  bus: InProcessEventBus | undefined;
  notes: string[];
  /** SUBGRAPH_AUTH_KEYS the subgraphs accept (generated unless given): hand it to the gateway. */
  subgraphAuthKeys: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions extends Pick<RuntimeOverrides, 'authenticate'> {
  env?: Record<string, string | undefined>;
  seed?: boolean;
  logger?: (service: string) => Logger;
}

/**
 * Starts every subgraph in this process, each on its own database, all sharing one in-process
 * event bus (the embedded stand-in for Kafka with the same delivery contract) — or, when
 * KAFKA_BROKERS is set, each with its own Kafka bus, as in full mode.
 */
export async function startEmbeddedSubgraphs(options: EmbeddedOptions = {}): Promise<EmbeddedStack> {
  const env = { ...(options.env ?? process.env) };
  // Only the gateway faces clients: the subgraphs listen on loopback, and answer only calls that carry a
  // token signed with this keyring (generated per start unless one is configured).
  env.HOST = '127.0.0.1';
  env.SUBGRAPH_AUTH_KEYS = env.SUBGRAPH_AUTH_KEYS?.trim() || generateSubgraphKeys();
  const loggerFor = (service: string) =>
    options.logger?.(service) ?? createLogger({ service, level: options.env?.LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info' });
  const eventsLogger = loggerFor('events');
  const bus = env.KAFKA_BROKERS?.trim()
    ? undefined
    : new InProcessEventBus({
        onDeadLetter: (letter) => {
          eventsLogger.error({ ...letter }, 'event parked on the dead-letter topic');
          for (const runtime of runtimes) runtime.countDeadLetter?.(letter); // on the /metrics of the group's service
        },
      });
  const services: RunningServer[] = [];
  const runtimes: ServiceRuntime[] = [];
  const notes: string[] = [];
  const stop = async () => {
    // Relays first (unpublished events stay in the outboxes for the next start), then let consumers
    // finish what the bus already holds, then the services.
    await Promise.all(runtimes.flatMap((runtime) => runtime.relays.map((relay) => relay.stop())));
    await bus?.drain(5_000);
    for (const service of [...services].reverse()) await service.stop();
    await bus?.close();
  };
  try {
    // Import every composition root at once (transpiling and loading overlap), then start the services
    // one by one: later ones need the earlier ones' addresses, and PGlite work is single-threaded anyway.
    const names = availableSubgraphs();
    const modules = await Promise.all(names.map(loadSubgraphModule));
    for (const [index, name] of names.entries()) {
      const module = modules[index]!;
      const logger = loggerFor(name);
      const runtime = await createServiceRuntime(name, { env, bus, logger, authenticate: options.authenticate });
      runtimes.push(runtime);
      if (options.seed !== false && module.seedDemoData) notes.push(...(await module.seedDemoData(runtime)));
      const service = await module.startService(runtime);
      services.push(service);
      // Services started later reach this one at its real address (port 0 picks a random one in tests).
      env[`${name.toUpperCase()}_URL`] = service.url;
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { services, bus, notes, subgraphAuthKeys: env.SUBGRAPH_AUTH_KEYS, stop };
}

/**
 * What `npm start` says it runs: embedded mode on its own, or — when full-mode variables point it at
 * PostgreSQL or Kafka — every service in one process against those servers, which is neither embedded
 * mode nor full mode (`npm run start:full` runs one process per service).
 */
export function oneProcessModeLabel(source: Record<string, string | undefined>): string {
  const servers: string[] = [];
  const databases = SERVICE_NAMES.map((name) => source[`${name.toUpperCase()}_DATABASE_URL`] ?? source.DATABASE_URL ?? '');
  if (databases.some((url) => /^postgres(ql)?:\/\//.test(url))) servers.push('PostgreSQL');
  if (source.KAFKA_BROKERS?.trim()) servers.push('Kafka');
  if (source.REDIS_URL?.trim()) servers.push('Redis');
  if (servers.length === 0) return 'embedded mode';
  return `one process on full-mode servers: ${servers.join(', ')}; npm run start:full runs one process per service`;
}
