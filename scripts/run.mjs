#!/usr/bin/env node
// Entry for the root npm scripts. npm here runs no pre/post or install scripts, so every command
// prepares what it needs itself (generated Prisma clients) before it runs.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...rest] = process.argv.slice(2);

function run(cmd, args, env = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/**
 * Runs a long-lived command and hands it the signals this wrapper receives (a plain `kill <pid>` of
 * `npm start` must stop the graph, not orphan it), then exits with its code.
 */
function runForwardingSignals(cmd, args) {
  const child = spawn(cmd, args, { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1)));
}

const jest = ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', 'node_modules/jest/bin/jest.js'];

switch (command) {
  case 'start':
    run(process.execPath, ['scripts/generate.mjs']);
    runForwardingSignals(process.execPath, ['--import', 'tsx', 'scripts/start-embedded.ts', ...rest]);
    break;
  case 'start:full':
    run(process.execPath, ['scripts/generate.mjs']);
    runForwardingSignals(process.execPath, ['--import', 'tsx', 'scripts/start-full.ts', ...rest]);
    break;
  case 'test':
    run(process.execPath, ['scripts/generate.mjs']);
    run(process.execPath, [...jest, ...rest]);
    break;
  case 'test:integration':
    run(process.execPath, ['scripts/generate.mjs']);
    run(process.execPath, [...jest, ...rest], { JEST_SUITE: 'integration' });
    break;
  default:
    console.error(`unknown command: ${command}`);
    process.exit(2);
}
