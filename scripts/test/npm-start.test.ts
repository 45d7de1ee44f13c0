/**
 * The newcomer's path: `npm start` (scripts/run.mjs start) brings up the whole graph on embedded
 * defaults with demo data, answers a storefront query through the gateway, and stops cleanly on SIGTERM.
 * Runs the real entry point as a child process, on free ports and a data directory of its own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';

jest.setTimeout(240_000);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('npm start serves the demo shop through the gateway and stops cleanly on SIGTERM', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'npm-start-'));
  // Port 0 gives each service a free management port too.
  const ports = Object.fromEntries(['GATEWAY', 'CATALOG', 'USERS', 'ORDERS', 'BILLING'].map((name) => [`${name}_PORT`, '0']));
  const child = spawn(process.execPath, ['scripts/run.mjs', 'start'], {
    cwd: ROOT,
    env: { ...process.env, ...ports, DATA_DIR: dataDir, HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const graphqlUrl = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /GraphQL:\s+(http:\/\/\S+\/graphql)/.exec(output);
        if (match) {
          clearInterval(timer);
          resolve(match[1]!);
        }
      }, 100);
      void exited.then((code) => {
        clearInterval(timer);
        reject(new Error(`npm start exited with ${code} before it was up:\n${output}`));
      });
    });
    const response = await fetch(graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ products(first: 3) { totalCount nodes { name price { amountCents currency } } } }' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { products: { totalCount: number; nodes: { name: string }[] } } };
    expect(body.data.products.totalCount).toBeGreaterThan(100); // the demo catalogue
    expect(body.data.products.nodes).toHaveLength(3);
    const playground = await fetch(graphqlUrl.replace(/\/graphql$/, '/playground'));
    expect(playground.status).toBe(200);
    // The banner names the gateway's management port: metrics there, 404 on the graph's port.
    const metricsUrl = /Metrics:\s+(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(output)?.[1];
    expect(metricsUrl).toBeDefined();
    expect(new URL(metricsUrl!).port).not.toBe(new URL(graphqlUrl).port);
    const metrics = await fetch(metricsUrl!);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('graphql_operations_total');
    expect((await fetch(graphqlUrl.replace(/\/graphql$/, '/metrics'))).status).toBe(404);
    // The subgraphs the banner lists listen on loopback and answer the gateway only (it holds the
    // keyring generated for this run); a direct call gets 401.
    const subgraphUrls = [...output.matchAll(/^\s+(?:catalog|users|orders|billing)\s+(http:\/\/\S+\/graphql)/gm)].map(
      (m) => m[1]!,
    );
    expect(subgraphUrls).toHaveLength(4);
    for (const url of subgraphUrls) {
      expect(new URL(url).hostname).toBe('127.0.0.1');
      const direct = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ _service { sdl } }' }),
      });
      expect({ url, status: direct.status }).toEqual({ url, status: 401 });
    }
  } finally {
    child.kill('SIGTERM');
    const code = await exited;
    rmSync(dataDir, { recursive: true, force: true });
    expect({ code, fatal: /"level":(60|"fatal")/.test(output) }).toEqual({ code: 0, fatal: false });
  }
});
