export * from './config.ts';
export * from './runtime.ts';
export * from './services.ts';
export * from './embedded.ts';
export * from './keys.ts';
export * from './events.ts';
export * from './saga.ts';
export * from './service-metrics.ts';
