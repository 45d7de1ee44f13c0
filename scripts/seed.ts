/**
 * `npm run seed`: loads every service's demo data into the databases configuration points at — full
 * mode's PostgreSQL (`<SERVICE>_DATABASE_URL` / `DATABASE_URL`) or embedded mode's `.data/`. Each
 * subgraph that exports `seedDemoData` decides what it seeds and when (e.g. only into an empty
 * database, never in production); migrations are applied first, as at service start.
 *
 *   npm run seed                      # every service
 *   npm run seed -- --service catalog # one service
 *   npm run seed -- --import-catalog  # the sample catalog only, production included (no demo accounts)
 */
import { parseArgs } from 'node:util';
import { createLogger, errorSummary } from '@commerce/platform';
import {
  availableSubgraphs,
  createServiceRuntime,
  loadSubgraphModule,
  openServiceDatabase,
  serviceDatabaseUrl,
  type ServiceName,
} from '@commerce/runtime';

const { values } = parseArgs({ options: { service: { type: 'string' }, 'import-catalog': { type: 'boolean' } } });

if (values['import-catalog']) {
  // Full mode and production: products and stock only; accounts come from create-admin and register.
  const module = await loadSubgraphModule('catalog');
  // Only the catalog database (applying its migrations): no keys, no broker, so it runs before the services.
  const database = await openServiceDatabase('catalog', serviceDatabaseUrl('catalog'), createLogger({ service: 'catalog' }));
  try {
    console.log((await module.importCatalog!(database)).join('\n'));
  } catch (error) {
    console.error(`catalog: import failed: ${errorSummary(error).message}`);
    process.exitCode = 1;
  } finally {
    await database.close();
  }
  process.exit(process.exitCode ?? 0);
}
const services = availableSubgraphs().filter((name) => !values.service || name === values.service);
if (services.length === 0) {
  console.error(`unknown service ${JSON.stringify(values.service)}: one of ${availableSubgraphs().join(', ')}`);
  process.exit(2);
}

async function seed(name: ServiceName): Promise<void> {
  const module = await loadSubgraphModule(name);
  if (!module.seedDemoData) {
    console.log(`${name}: no demo data`);
    return;
  }
  // Seeding publishes nothing itself, so it needs no broker (events it writes wait in the outbox).
  const runtime = await createServiceRuntime(name, { env: { ...process.env, KAFKA_BROKERS: '' } });
  try {
    const notes = await module.seedDemoData(runtime);
    console.log(notes.length > 0 ? notes.join('\n') : `${name}: nothing to seed (already seeded, or not seeded in this mode)`);
  } finally {
    await runtime.close();
  }
}

let failed = false;
for (const name of services) {
  try {
    await seed(name);
  } catch (error) {
    failed = true;
    console.error(`${name}: seeding failed: ${errorSummary(error).message}`);
  }
}
process.exit(failed ? 1 : 0);
