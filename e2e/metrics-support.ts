/**
 * Reads the services' /metrics the way Prometheus does, and the metrics table of docs/operations.md, so
 * tests can check that every documented series is really exposed by the services the table names.
 */
import { readFileSync } from 'node:fs';
import type { TestStack } from '@commerce/testkit';

export const SUBGRAPHS = ['catalog', 'users', 'orders', 'billing'] as const;
export type Deployable = 'gateway' | (typeof SUBGRAPHS)[number];

/**
 * The subgraphs that produce events, read from the one place that decides it: an outbox table in the service's
 * Prisma schema. A new producer is checked for the outbox metrics without anyone listing it here.
 */
export const PRODUCERS: Deployable[] = SUBGRAPHS.filter((service) =>
  /@@map\("outbox_events"\)/.test(readFileSync(new URL(`../prisma/${service}/schema.prisma`, import.meta.url), 'utf8')),
);

/** What the "From" column of the metrics table means, with PGlite or PostgreSQL databases. */
const from = (database: 'pglite' | 'postgres'): Record<string, Deployable[]> => ({
  'every service': ['gateway', ...SUBGRAPHS],
  subgraphs: [...SUBGRAPHS],
  'subgraphs on PostgreSQL': database === 'postgres' ? [...SUBGRAPHS] : [],
  'producing subgraphs': PRODUCERS,
  'consuming services': ['catalog', 'orders', 'billing'],
  'consuming services and gateway': ['catalog', 'orders', 'billing', 'gateway'],
  gateway: ['gateway'],
  orders: ['orders'],
  billing: ['billing'],
});

export interface DocumentedMetric {
  /** A metric name, or a prefix ending in `_` for rows like `process_*`. */
  name: string;
  prefix: boolean;
  services: Deployable[];
}

/** The rows of the table under "## Metrics" in docs/operations.md; an unknown "From" value throws. */
export function documentedMetrics(database: 'pglite' | 'postgres' = 'pglite'): DocumentedMetric[] {
  const markdown = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
  const section = markdown.split('\n## Metrics')[1]!.split('\n## ')[0]!;
  const metrics: DocumentedMetric[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const cells = line.split(' | ');
    const source = cells
      .at(-1)!
      .replace(/\s*\|\s*$/, '')
      .trim();
    const services = from(database)[source];
    if (!services) throw new Error(`docs/operations.md metrics table: unknown "From" value "${source}"`);
    for (const [, name] of cells[0]!.matchAll(/`([a-z_:][a-z0-9_:]*\*?)`/g)) {
      const prefix = name!.endsWith('*');
      metrics.push({ name: prefix ? name!.slice(0, -1) : name!, prefix, services });
    }
  }
  return metrics;
}

export function metricsUrl(stack: TestStack, service: Deployable): string {
  // On the management port, as Prometheus scrapes it (the public port answers 404 there).
  const management = service === 'gateway' ? stack.gateway.management : stack.services[service]!.management;
  return `${management.url}/metrics`;
}

export async function scrape(stack: TestStack, service: Deployable): Promise<string> {
  const response = await fetch(metricsUrl(stack, service));
  if (response.status !== 200) throw new Error(`${service} /metrics answered ${response.status}`);
  return response.text();
}

/** Metric families a scrape declares (`# TYPE name kind`). */
export const families = (text: string) => new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!));

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** Every sample of one series name in a scrape. */
export function samples(text: string, name: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!;
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

/** The value of the one sample whose labels include `labels` (0 when there is none yet, like an unseen counter). */
export function valueOf(text: string, name: string, labels: Record<string, string>): number {
  const matching = samples(text, name).filter((sample) =>
    Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (matching.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${matching.length} samples`);
  return matching[0]?.value ?? 0;
}

/** Scrapes until `done` holds (gauges measured on scrape are cached for a few seconds). */
export async function scrapeUntil(
  stack: TestStack,
  service: Deployable,
  done: (text: string) => boolean,
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = await scrape(stack, service);
  while (!done(text) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    text = await scrape(stack, service);
  }
  return text;
}
