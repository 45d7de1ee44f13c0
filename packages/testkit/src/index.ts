export * from './integration.ts';
export * from './postgres.ts';
export * from './stack.ts';
export * from './tokens.ts';
