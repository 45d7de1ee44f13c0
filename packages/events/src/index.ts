export * from './envelope.ts';
export * from './bus.ts';
export * from './in-process-bus.ts';
export * from './outbox.ts';
