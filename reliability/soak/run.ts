/**
 * The soak orchestrator: starts the stack (bench/src/stack — subgraphs as one process each on fresh
 * PostgreSQL databases with Kafka in full mode, all in one process on PGlite in embedded mode — and our
 * gateway), samples every process's memory, runs the traffic driver (driver.ts) in its own process for
 * a bounded time, then stops everything it started (by PID) and writes a JSON + markdown report.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import * as prettier from 'prettier';
import { bearer } from '@commerce/testkit/tokens';
import { BENCH_DIR, REPO_ROOT, readyLine, spawnNode, type Child } from '../../bench/src/processes.ts';
import { SUBGRAPHS, startOurGateway, startSubgraphs, type OurGateway, type Subgraphs } from '../../bench/src/stack/stack.ts';
import { MemorySampler, summarizeMemory, type WatchedProcess } from './memory.ts';
import { evaluateChecks, renderMarkdown, type SoakReport } from './report.ts';
import type { DriverResult, DriverSpec, TrafficRates } from './spec.ts';

export interface SoakOptions {
  mode: 'full' | 'embedded';
  durationSeconds: number;
  rates: TrafficRates;
  customers: number;
  /** Full mode: the PostgreSQL server (fresh databases are created and dropped), Redis and Kafka. */
  databaseUrl?: string;
  redisUrl?: string;
  kafkaBrokers?: string;
  sampleIntervalSeconds: number;
  settleTimeoutSeconds: number;
  bounds: SoakReport['meta']['bounds'];
  /** Where the report files go; undefined: none written. */
  resultsDir?: string;
  command: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Aborting stops the run early (the stack is still stopped and nothing is reported). */
  signal?: AbortSignal;
}

export interface SoakOutcome {
  report: SoakReport;
  files: { json: string; markdown: string } | undefined;
}

const KAFKA_PID_FILE = path.join(REPO_ROOT, 'ci', 'kafka', 'run', 'kafka.pid');

/** Only loopback: the soak never sends load or creates databases anywhere else. */
export function assertLoopback(label: string, value: string | undefined): void {
  if (!value) return;
  for (const entry of value.split(',')) {
    const host = entry.includes('://') ? new URL(entry).hostname : entry.split(':')[0]!;
    if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
      throw new Error(`${label} must point at 127.0.0.1 (the soak targets loopback only), got ${host}`);
    }
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakOutcome> {
  const log = options.log ?? (() => undefined);
  const wallStart = performance.now();
  const runId = `${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;
  const full = options.mode === 'full';
  if (full) {
    if (!options.databaseUrl || !options.kafkaBrokers || !options.redisUrl) {
      throw new Error('full mode needs a PostgreSQL URL, Kafka brokers and a Redis URL');
    }
    assertLoopback('PostgreSQL', options.databaseUrl);
    assertLoopback('Redis', options.redisUrl);
    assertLoopback('Kafka', options.kafkaBrokers);
  }
  const loadStart = os.loadavg();
  let peakLoad = loadStart[0]!;
  const redisPrefix = `soak-${runId}:`;
  const kafkaPrefix = `soak-${runId}.`;

  let subgraphs: Subgraphs | undefined;
  let gateway: OurGateway | undefined;
  let driver: Child | undefined;
  let sampler: MemorySampler | undefined;
  const specFile = path.join(BENCH_DIR, 'results', 'work.tmp', `soak-${runId}.json`);
  try {
    log(`soak ${options.mode}: starting the stack ...`);
    subgraphs = await startSubgraphs({
      label: 'soak',
      ...(full
        ? { databaseUrl: options.databaseUrl, kafkaBrokers: options.kafkaBrokers, env: { KAFKA_TOPIC_PREFIX: kafkaPrefix } }
        : {}),
    });
    options.signal?.throwIfAborted();
    gateway = await startOurGateway({
      name: 'soak-gateway',
      subgraphs: subgraphs.urls,
      responseCache: true,
      env: {
        // One load generator on one address: per-client limits would refuse most of the traffic.
        GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '1000000000',
        REDIS_URL: full ? options.redisUrl : undefined,
        GATEWAY_REDIS_PREFIX: redisPrefix,
        // Full mode: cached answers are purged by the catalog's events, as in production.
        ...(full ? { KAFKA_BROKERS: options.kafkaBrokers, KAFKA_TOPIC_PREFIX: kafkaPrefix } : {}),
      },
    });
    options.signal?.throwIfAborted();

    const watched: WatchedProcess[] = [
      { name: 'gateway', pid: gateway.child.pid, metricsUrl: `${gateway.managementUrl}/metrics` },
    ];
    if (full) {
      for (const name of SUBGRAPHS) {
        const child = subgraphs.children.find((candidate) => candidate.name === `soak-${name}`)!;
        watched.push({ name, pid: child.pid, metricsUrl: `${subgraphs.management[name]}/metrics` });
      }
      const broker = kafkaBrokerPid();
      if (broker) watched.push({ name: 'kafka broker (JVM)', pid: broker });
    } else {
      watched.push({
        name: 'subgraphs (catalog+users+orders+billing, one process)',
        pid: subgraphs.children[0]!.pid,
        metricsUrl: `${subgraphs.management.catalog}/metrics`,
      });
    }
    sampler = new MemorySampler(watched);
    await sampler.sample();
    sampler.start(options.sampleIntervalSeconds * 1000);
    const loadTimer = setInterval(() => (peakLoad = Math.max(peakLoad, os.loadavg()[0]!)), 5000);
    loadTimer.unref();

    const spec: DriverSpec = {
      url: gateway.url,
      durationSeconds: options.durationSeconds,
      rates: options.rates,
      customers: options.customers,
      settleTimeoutSeconds: options.settleTimeoutSeconds,
      maxInFlightPerClass: 32,
    };
    mkdirSync(path.dirname(specFile), { recursive: true });
    writeFileSync(specFile, JSON.stringify(spec));
    log(`soak ${options.mode}: ${watched.map((process) => `${process.name} pid ${process.pid}`).join(', ')}`);
    log(`soak ${options.mode}: traffic for ${options.durationSeconds} s against ${gateway.url} ...`);
    const ready = readyLine<{ result: DriverResult }>('soak-driver');
    const samplerStartedAt = sampler.samples[0]!.atSeconds;
    const driverStartedAt = performance.now();
    driver = spawnNode('soak-driver', {
      args: ['reliability/soak/driver.ts', specFile],
      env: { SOAK_ADMIN_AUTHORIZATION: bearer(randomUUID(), 'ADMIN') },
      onLine: ready.onLine,
    });
    const progress = setInterval(() => {
      const last = sampler!.samples.at(-1);
      if (!last) return;
      const rss = Object.entries(last.rssMB)
        .map(([name, value]) => `${name.split(' ')[0]} ${value.toFixed(0)}`)
        .join(', ');
      log(`  ${((performance.now() - driverStartedAt) / 1000).toFixed(0)} s: RSS MB ${rss}; load ${os.loadavg()[0]!.toFixed(2)}`);
    }, 60_000);
    progress.unref();
    // Bounded: setup, the load, the settle wait, and a margin; past that the driver is stopped.
    const hardLimitMs = (options.durationSeconds + options.settleTimeoutSeconds + 300) * 1000;
    let watchdog: NodeJS.Timeout | undefined;
    let result: DriverResult;
    try {
      ({ result } = await Promise.race([
        ready.ready(driver),
        new Promise<never>((_, reject) => {
          watchdog = setTimeout(
            () => reject(new Error(`the traffic driver did not finish within ${hardLimitMs / 1000} s`)),
            hardLimitMs,
          );
        }),
        new Promise<never>((_, reject) => {
          if (options.signal) options.signal.addEventListener('abort', () => reject(new Error('soak aborted')), { once: true });
        }),
      ]));
    } finally {
      clearTimeout(watchdog);
      clearInterval(progress);
      clearInterval(loadTimer);
    }
    await sampler.stop();
    await sampler.sample();
    peakLoad = Math.max(peakLoad, os.loadavg()[0]!);
    // The driver spends a few seconds registering customers before its load starts.
    const loadBeganAt =
      samplerStartedAt + (performance.now() - driverStartedAt) / 1000 - result.loadSeconds - result.settleSeconds;
    const warmupSeconds = Math.min(60, Math.max(2, Math.round(options.durationSeconds * 0.2)));
    const window = Math.max(2, Math.round(Math.min(30, options.durationSeconds * 0.1) / options.sampleIntervalSeconds));
    const processes = summarizeMemory(
      watched,
      sampler.samples,
      loadBeganAt + warmupSeconds,
      {
        rssMB: options.bounds.rssGrowthMB,
        heapUsedMB: options.bounds.heapGrowthMB,
      },
      window,
    );

    const report: SoakReport = {
      meta: {
        date: new Date().toISOString(),
        mode: options.mode,
        stack: full
          ? `Full mode: subgraphs as one process each on fresh PostgreSQL databases (${new URL(options.databaseUrl!).host}), events on Kafka ${options.kafkaBrokers} (topic prefix ${kafkaPrefix}), gateway with Redis ${new URL(options.redisUrl!).host} (key prefix ${redisPrefix}) for response cache, APQ and rate limits`
          : 'Embedded mode: the four subgraphs in one process on in-memory PGlite with the in-process event bus, gateway in its own process with in-memory cache',
        cores: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.versions.node,
        durationSeconds: options.durationSeconds,
        rates: options.rates,
        customers: options.customers,
        sampleIntervalSeconds: options.sampleIntervalSeconds,
        warmupSeconds,
        bounds: options.bounds,
        loadAverage: { start: loadStart.map(round2), end: os.loadavg().map(round2), peak1m: round2(peakLoad) },
        command: options.command,
        wallSeconds: 0,
      },
      traffic: result,
      processes,
      samples: sampler.samples.map((sample) => ({
        atSeconds: Math.round(sample.atSeconds),
        rssMB: roundValues(sample.rssMB),
        heapUsedMB: roundValues(sample.heapUsedMB),
      })),
      checks: evaluateChecks(result, processes, options.bounds),
    };
    await driver.stop();
    await stopStack();
    report.meta.wallSeconds = Math.round((performance.now() - wallStart) / 1000);
    let files: SoakOutcome['files'];
    if (options.resultsDir) {
      mkdirSync(options.resultsDir, { recursive: true });
      const stamp = report.meta.date.slice(0, 16).replace(/:/g, '-');
      const base = path.join(options.resultsDir, `soak-${options.mode}-${stamp}-${report.meta.cores}cores`);
      files = { json: `${base}.json`, markdown: `${base}.md` };
      // Formatted as the repository's prettier config wants it, so `npm run lint` accepts the committed file.
      const config = (await prettier.resolveConfig(files.json)) ?? {};
      writeFileSync(files.json, await prettier.format(JSON.stringify(report), { ...config, filepath: files.json }));
      writeFileSync(files.markdown, renderMarkdown(report));
    }
    return { report, files };
  } finally {
    await sampler?.stop();
    await driver?.stop();
    await stopStack();
    rmSync(specFile, { force: true });
  }

  async function stopStack(): Promise<void> {
    const stopping = [gateway, subgraphs];
    gateway = undefined;
    subgraphs = undefined;
    for (const part of stopping) await part?.stop();
    if (full && stopping.some(Boolean)) {
      await deleteRedisKeys(options.redisUrl!, redisPrefix).catch(() => undefined);
      await deleteKafkaTopics(options.kafkaBrokers!, kafkaPrefix).catch(() => undefined);
    }
  }
}

/** The broker ci/kafka/start.sh started, when its PID file names a running Kafka JVM. */
function kafkaBrokerPid(): number | undefined {
  if (!existsSync(KAFKA_PID_FILE)) return undefined;
  const pid = Number(readFileSync(KAFKA_PID_FILE, 'utf8').trim());
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the keys this run's gateway left under its own prefix (and nothing else). */
async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Removes this run's topics and consumer groups (all named with its own prefix) from the shared broker. */
async function deleteKafkaTopics(brokers: string, prefix: string): Promise<void> {
  const admin = new Kafka({ clientId: 'soak-cleanup', brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 });
    // A group can be deleted once empty; members of the stopped services may take a moment to leave.
    for (let attempt = 0; attempt < 15; attempt++) {
      const { groups } = await admin.listGroups();
      const ours = groups.map((group) => group.groupId).filter((id) => id.startsWith(prefix));
      if (ours.length === 0) return;
      try {
        await admin.deleteGroups(ours);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

const round2 = (value: number) => Math.round(value * 100) / 100;
const roundValues = (values: Record<string, number>) =>
  Object.fromEntries(Object.entries(values).map(([name, value]) => [name, Math.round(value * 10) / 10]));
