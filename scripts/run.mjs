#!/usr/bin/env node
// Entry for the root npm scripts. npm here runs no pre/post or install scripts, so every command
// prepares what it needs itself (generated Prisma clients) before it runs.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...rest] = process.argv.slice(2);

function run(cmd, args, env = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const jest = ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', 'node_modules/jest/bin/jest.js'];

switch (command) {
  case 'start':
    run(process.execPath, ['scripts/generate.mjs']);
    run(process.execPath, ['--import', 'tsx', 'scripts/start-embedded.ts', ...rest]);
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
