/**
 * Child processes the benchmark starts: each is remembered by its PID and stopped by it (SIGTERM,
 * then SIGKILL after a grace period) — never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BENCH_DIR = path.join(REPO_ROOT, 'bench');
/** Child processes' stdout/stderr go here (one file per process, overwritten each run; gitignored). */
export const LOG_DIR = path.join(BENCH_DIR, 'results', 'logs.tmp');

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const running = new Set<Child>();

export interface SpawnOptions {
  args: string[];
  env?: Record<string, string | undefined>;
  /** Lines written to stdout are handed here (e.g. a JSON "ready" line). */
  onLine?: (line: string) => void;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Run `node --import tsx` (TypeScript entry points). */
  typescript?: boolean;
}

export function spawnNode(name: string, options: SpawnOptions): Child {
  mkdirSync(LOG_DIR, { recursive: true });
  const log = createWriteStream(path.join(LOG_DIR, `${name}.log`));
  const flags = [...(options.typescript === false ? [] : ['--import', 'tsx']), ...(options.nodeFlags ?? [])];
  const child = spawn(process.execPath, [...flags, ...options.args], {
    cwd: REPO_ROOT,
    // A variable given as undefined is removed from the inherited environment.
    env: Object.fromEntries(Object.entries({ ...process.env, ...options.env }).filter(([, value]) => value !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    if (!options.onLine) return;
    buffered += chunk.toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      options.onLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => log.write(chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      log.end();
      resolve(code);
    }),
  );
  const handle: Child = {
    name,
    pid: child.pid,
    process: child,
    exited,
    async stop() {
      running.delete(handle);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(killed);
    },
  };
  running.add(handle);
  return handle;
}

/** Stops every child still running (last started first); used on the way out, also after a failure. */
export async function stopAll(): Promise<void> {
  for (const child of [...running].reverse()) await child.stop();
}

/** A free loopback port (the OS picks it; the tiny window until the child binds it is acceptable here). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 2xx, the child dies, or the time runs out. */
export async function waitForHttp(url: string, child: Child | undefined, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void child?.exited.then(() => (dead = true));
  while (Date.now() < deadline) {
    if (dead) throw new Error(`${child!.name} exited before answering ${url}; see ${path.join(LOG_DIR, child!.name + '.log')}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

/** Waits for a line the child prints that parses as JSON with `ready: true`. */
export function readyLine<T>(name: string): { onLine: (line: string) => void; ready: (child: Child) => Promise<T> } {
  let resolveReady: (value: T) => void;
  const promise = new Promise<T>((resolve) => (resolveReady = resolve));
  return {
    onLine(line) {
      if (!line.startsWith('{')) return;
      try {
        const value = JSON.parse(line) as { ready?: boolean };
        if (value.ready === true) resolveReady(value as T);
      } catch {
        // a log line, not ours
      }
    },
    ready: (child) =>
      Promise.race([
        promise,
        child.exited.then((code) => {
          throw new Error(`${name} exited (code ${code}) before it was ready; see ${path.join(LOG_DIR, name + '.log')}`);
        }),
      ]),
  };
}
