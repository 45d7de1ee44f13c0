import { pino, type Logger, type LoggerOptions } from 'pino';
import { currentRequestContext } from './request-context.ts';
import { activeSpanIds } from './tracing.ts';

export type { Logger };

/**
 * Paths never written to logs. Secrets must not leak even when someone logs a whole object,
 * so redaction covers the usual places tokens, passwords and card data live.
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'newPassword',
  '*.newPassword',
  'currentPassword',
  '*.currentPassword',
  'passwordHash',
  '*.passwordHash',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'cardNumber',
  '*.cardNumber',
  'cvc',
  '*.cvc',
  'variables',
  '*.variables',
];

export interface LoggerSettings {
  service: string;
  level?: string;
  /** Extra destination, used by tests that capture log output. */
  destination?: pino.DestinationStream;
}

export function createLogger({ service, level = 'info', destination }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // Every line written inside a request carries its request and trace ids; inside a span (a request,
    // an event being handled or published) also the span's ids, so logs and traces join up.
    mixin() {
      const context = currentRequestContext();
      const span = activeSpanIds();
      if (span) return context ? { requestId: context.requestId, ...span } : span;
      return context ? { requestId: context.requestId, traceId: context.traceId } : {};
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
