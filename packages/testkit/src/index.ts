export * from './integration.ts';
export * from './postgres.ts';
export * from './stack.ts';
export * from './tokens.ts';
export * from './forged-tokens.ts';
export * from './sql-counter.ts';
