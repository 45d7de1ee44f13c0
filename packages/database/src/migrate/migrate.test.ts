// Migrations on embedded PGlite (runs in `npm test`, no servers needed).
import { openDatabase } from '../connection.ts';
import { migrationScenarios } from './migrate.scenarios.ts';

describe('migrations on PGlite', () => {
  migrationScenarios(() => openDatabase({ kind: 'pglite', dataDir: 'memory://' }));
});
