/**
 * `npm run bench -- --profile`: runs scenario 1 (storefront page, uncached) once with our gateway and the
 * subgraphs under `--cpu-prof`, then prints where their CPU time went — by package and by function
 * (self time). The raw profiles stay in bench/results/profiles.tmp/ (open them in Chrome DevTools).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH_DIR } from './processes.ts';
import { runLoad, type LoadSettings } from './load/run-load.ts';
import { STOREFRONT_PAGE, graphqlBody } from './queries.ts';
import { startOurGateway, startSubgraphs } from './stack/stack.ts';
import { runCheckoutScenarios, type CheckoutOptions } from './scenarios/checkout.ts';

export const PROFILE_DIR = path.join(BENCH_DIR, 'results', 'profiles.tmp');

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Fresh directories for this run's profiles. */
function profileDirectories(): { gatewayDir: string; subgraphDir: string } {
  rmSync(PROFILE_DIR, { recursive: true, force: true });
  const gatewayDir = path.join(PROFILE_DIR, 'gateway');
  const subgraphDir = path.join(PROFILE_DIR, 'subgraphs');
  mkdirSync(gatewayDir, { recursive: true });
  mkdirSync(subgraphDir, { recursive: true });
  return { gatewayDir, subgraphDir };
}

/** Summarizes every profile written, prints it and keeps it as profiles.tmp/summary.md. */
function reportProfiles(what: string, { gatewayDir, subgraphDir }: { gatewayDir: string; subgraphDir: string }): void {
  const report = [
    `# CPU profile under ${what}`,
    '',
    ...summarizeDirectory('our gateway', gatewayDir),
    ...summarizeDirectory('subgraphs', subgraphDir),
  ].join('\n');
  writeFileSync(path.join(PROFILE_DIR, 'summary.md'), report + '\n');
  console.log('\n' + report);
  console.log(`\nraw profiles and this summary: ${PROFILE_DIR}`);
}

export async function profileOurGateway(options: {
  settings: LoadSettings;
  pageSize: number;
  databaseUrl?: string;
  gatewayEnv?: Record<string, string>;
  /** Profile cache hits (scenario 3) instead of uncached requests (scenario 1). */
  cacheHit?: boolean;
}): Promise<void> {
  const directories = profileDirectories();
  const what = options.cacheHit ? 'scenario 3 (storefront page, cache hit)' : 'scenario 1 (storefront page, uncached)';
  console.log(`\nProfiling our gateway and the subgraphs under ${what} ...`);
  const subgraphs = await startSubgraphs({
    databaseUrl: options.databaseUrl,
    nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${directories.subgraphDir}`],
  });
  try {
    const gateway = await startOurGateway({
      name: 'ours-profiled',
      subgraphs: subgraphs.urls,
      responseCache: options.cacheHit === true,
      env: options.gatewayEnv,
      nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${directories.gatewayDir}`],
    });
    try {
      await runLoad(
        `ours, ${options.cacheHit ? 'cache hit' : 'uncached'}, profiled`,
        { url: gateway.url, body: graphqlBody(STOREFRONT_PAGE, { first: options.pageSize }) },
        options.settings,
        subgraphs.management,
        { server: [gateway.child.pid], subgraphs: subgraphs.children.map((child) => child.pid) },
      );
    } finally {
      await gateway.stop(); // the profile is written when the process exits
    }
  } finally {
    await subgraphs.stop();
  }
  reportProfiles(what, directories);
}

/** `--profile --scenario 6`: the checkout flow with the gateway and every subgraph under `--cpu-prof`. */
export async function profileCheckout(options: Omit<CheckoutOptions, 'nodeFlags'>): Promise<void> {
  const directories = profileDirectories();
  await runCheckoutScenarios({
    ...options,
    kafkaOnly: true,
    nodeFlags: {
      gateway: ['--cpu-prof', `--cpu-prof-dir=${directories.gatewayDir}`],
      subgraphs: ['--cpu-prof', `--cpu-prof-dir=${directories.subgraphDir}`],
    },
  });
  reportProfiles('scenario 6 (checkout → CONFIRMED)', directories);
}

function summarizeDirectory(title: string, dir: string): string[] {
  const files = readdirSync(dir).filter((file) => file.endsWith('.cpuprofile'));
  return files.flatMap((file) =>
    summarize(`${title} (${file})`, JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile),
  );
}

/** Self time per package and per function, as a share of the profile's sampled time. */
export function summarize(title: string, profile: CpuProfile, top = 25): string[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  profile.samples.forEach((id, index) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const total = [...selfMicros.values()].reduce((sum, value) => sum + value, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let idle = 0;
  for (const [id, micros] of selfMicros) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') idle += micros;
    const where = packageOf(url, functionName);
    byPackage.set(where, (byPackage.get(where) ?? 0) + micros);
    const key = `${functionName || '(anonymous)'} ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  }
  const share = (micros: number) => `${((100 * micros) / total).toFixed(1)}%`;
  const rows = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => `| ${share(micros)} | ${name.replace(/\|/g, '\\|')} |`);
  return [
    `## ${title}`,
    '',
    `Sampled ${(total / 1e6).toFixed(1)} s, of which idle ${share(idle)}.`,
    '',
    '| self | package |',
    '| ---: | --- |',
    ...rows(byPackage).slice(0, 15),
    '',
    '| self | function |',
    '| ---: | --- |',
    ...rows(byFunction),
    '',
  ];
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native/V8)';
  if (url.startsWith('node:')) return 'node: internals';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  const local = /\/work\/[^/]+\/(.+)$/.exec(url.replace('file://', ''));
  const project = local?.[1] ?? url;
  return project.split('/').slice(0, 2).join('/');
}

function shortUrl(url: string): string {
  const match = /node_modules\/(.+)$/.exec(url);
  if (match) return match[1]!;
  return url.replace(/^file:\/\/.*?\/(gateway|packages|subgraphs|bench)\//, '$1/');
}
