// One jest config for the monorepo. Tests are TypeScript ESM, transformed by SWC (no type-check at test time;
// `npm run typecheck` does that). `*.int.test.ts` need real PostgreSQL/Redis/Kafka and run via `npm run test:integration`.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript', decorators: false }, target: 'es2022' },
    module: { type: 'es6' },
  },
];

const integration = process.env.JEST_SUITE === 'integration';

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  roots: [
    '<rootDir>/packages',
    '<rootDir>/subgraphs',
    '<rootDir>/gateway',
    '<rootDir>/scripts',
    '<rootDir>/e2e',
    '<rootDir>/reliability',
    '<rootDir>/bench',
  ],
  testMatch: integration ? ['**/*.int.test.ts'] : ['**/*.test.ts'],
  testPathIgnorePatterns: integration ? ['/node_modules/'] : ['/node_modules/', '\\.int\\.test\\.ts$'],
  testTimeout: 30_000,
  maxWorkers: 2,
  // Each ESM test file loads the whole module graph afresh into the worker, and a worker that has run many
  // files slows down several-fold (a stack test: 9 s alone, 53 s late in a run). Recycle a worker once it
  // holds more than this after a file: npm test went from 497 s to 258 s here.
  workerIdleMemoryLimit: '300MB',
};
