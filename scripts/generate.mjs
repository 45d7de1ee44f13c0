#!/usr/bin/env node
// Generates each subgraph's Prisma client. Offline-safe: `prisma generate` never runs the native schema
// engine, so pointing PRISMA_SCHEMA_ENGINE_BINARY at /bin/true keeps the CLI from trying to download it.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const services = readdirSync(path.join(root, 'prisma')).filter((name) =>
  existsSync(path.join(root, 'prisma', name, 'schema.prisma')),
);

for (const service of services) {
  const schema = path.join(root, 'prisma', service, 'schema.prisma');
  const marker = path.join(root, 'subgraphs', service, 'src', 'generated', 'prisma', 'client.ts');
  // Skip when the generated client is newer than the schema: keeps `npm test`/`npm start` fast.
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(schema).mtimeMs) continue;
  const result = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules', 'prisma', 'build', 'index.js'), 'generate', '--schema', schema],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true', PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    },
  );
  if (result.status !== 0) {
    console.error(`prisma generate failed for ${service}`);
    process.exit(result.status ?? 1);
  }
}
