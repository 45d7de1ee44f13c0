import type { Logger } from './logger.ts';
import { ConfigError } from './config.ts';
import { errorSummary } from './http.ts';
import { configureTracing, shutdownTracing } from './tracing.ts';

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Runs a service's start function as the process entry point: a failed start (bad variable,
 * unreachable database, failed migration) ends in one clear log line and exit code 1 rather than
 * a stack dump; SIGTERM/SIGINT stop it gracefully (draining requests) and exit 0.
 */
export async function runMain(service: string, logger: Logger | undefined, start: () => Promise<Stoppable>): Promise<void> {
  const log = (level: 'fatal' | 'info', fields: Record<string, unknown>, msg: string) => {
    if (logger) logger[level](fields, msg);
    else process.stderr.write(JSON.stringify({ level, service, time: new Date().toISOString(), ...fields, msg }) + '\n');
  };
  let running: Stoppable;
  try {
    // OTEL_* variables; `embedded` runs several services, each keeping its own service.name.
    configureTracing(process.env, service === 'embedded' ? {} : { service });
    running = await start();
  } catch (error) {
    if (error instanceof ConfigError) {
      log('fatal', { problems: error.problems }, `invalid configuration: ${error.message}`);
    } else {
      log('fatal', { err: errorSummary(error) }, `${service} failed to start: ${errorSummary(error).message}`);
    }
    process.exit(1);
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log('info', { signal }, `${service} shutting down`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    try {
      await running.stop();
      await shutdownTracing(); // flushes the spans still queued
      process.exit(0);
    } catch (error) {
      log('fatal', { err: errorSummary(error) }, 'shutdown failed');
      process.exit(1);
    }
  };
  // `on`, not `once`: a second signal (Ctrl-C reaches both `npm start`'s wrapper, which forwards it, and
  // this process) must not fall back to Node's default and kill the process mid-shutdown.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
