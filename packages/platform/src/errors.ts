import { GraphQLError, type GraphQLFormattedError } from 'graphql';

/** The stable `extensions.code` values clients can rely on. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'INSUFFICIENT_STOCK'
  | 'PAYMENT_DECLINED'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

/**
 * A request body over the size limit (HTTP 413), at the gateway and at every subgraph. Not an ErrorCode:
 * no use case raises it, only the HTTP layer before any GraphQL runs.
 */
export const PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE';

/**
 * An error a use case raises on purpose. Domain code throws these (no GraphQL import needed there);
 * the API edge turns them into GraphQL errors with the same code.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const badInput = (field: string, message: string) => new DomainError('BAD_USER_INPUT', message, { field });
export const notFound = (what: string) => new DomainError('NOT_FOUND', `${what} not found`);
export const conflict = (message: string, details: Record<string, unknown> = {}) => new DomainError('CONFLICT', message, details);
export const forbidden = (message = 'You are not allowed to do this') => new DomainError('FORBIDDEN', message);
export const unauthenticated = (message = 'Authentication required') => new DomainError('UNAUTHENTICATED', message);

const CLIENT_CODES = new Set<string>([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'INSUFFICIENT_STOCK',
  'PAYMENT_DECLINED',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  // Codes Apollo Server itself assigns to malformed requests.
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  PAYLOAD_TOO_LARGE,
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export function toGraphQLError(error: DomainError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { code: error.code, ...error.details } });
}

/** The DomainError behind an error (GraphQL wraps resolver errors in `originalError`), if there is one. */
export function findDomainError(error: unknown): DomainError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (current instanceof DomainError) return current;
    current = (current as { originalError?: unknown }).originalError;
  }
  return undefined;
}

/** Driver and Prisma codes for "the database cannot be reached or dropped the connection" (not a bad query). */
const DATABASE_UNAVAILABLE_CODES = new Set([
  'P1001',
  'P1002',
  'P1017',
  'P2024',
  'ECONNREFUSED',
  'ECONNRESET',
  '57P01',
  '57P02',
  '57P03',
]);
const DATABASE_UNAVAILABLE_MESSAGES =
  /Can't reach database server|Connection terminated unexpectedly|Connection terminated due to connection timeout|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|Server has closed the connection|terminating connection due to administrator command|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)|Code: `(57P0[123]|08[0-9A-Z]{3})`/i;

/**
 * True when an error (or one it wraps) says the service's database is unreachable or went away —
 * a PostgreSQL outage or restart. Clients get SERVICE_UNAVAILABLE for it (retry later), not a bug report.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    const { code, message, name } = current as { code?: unknown; message?: unknown; name?: unknown };
    if (name === 'PrismaClientInitializationError') return true;
    if (typeof code === 'string' && (DATABASE_UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    if (typeof message === 'string' && DATABASE_UNAVAILABLE_MESSAGES.test(message)) return true;
    const next = current as { originalError?: unknown; cause?: unknown };
    current = next.originalError ?? next.cause;
  }
  return false;
}

/** Node socket codes for "the server cannot be reached or dropped the connection". */
const NETWORK_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/** ioredis' words for a Redis that is down or restarting (its offline queue refuses, or a command times out). */
const REDIS_UNAVAILABLE_MESSAGES =
  /Stream isn't writeable|Connection is closed|Reached the max retries per request limit|Command timed out|LOADING Redis is loading|socket hang up/i;

/**
 * True when an error (or one it wraps) says an infrastructure server — the database, Redis, any peer over
 * TCP — is unreachable or went away: retrying later helps, and nothing is wrong with the work itself.
 */
export function isInfrastructureUnavailable(error: unknown): boolean {
  if (isDatabaseUnavailable(error)) return true;
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    const { code, message, name } = current as { code?: unknown; message?: unknown; name?: unknown };
    if (name === 'MaxRetriesPerRequestError') return true;
    if (typeof code === 'string' && NETWORK_UNAVAILABLE_CODES.has(code)) return true;
    if (typeof message === 'string' && REDIS_UNAVAILABLE_MESSAGES.test(message)) return true;
    const next = current as { originalError?: unknown; cause?: unknown };
    current = next.originalError ?? next.cause;
  }
  return false;
}

/**
 * The code an error will carry once formatted, for metrics read before formatting (Apollo's didEncounterErrors):
 * a DomainError's own code, a GraphQL error's code, SERVICE_UNAVAILABLE for a database outage, else INTERNAL.
 */
export function errorCodeOf(error: unknown): string {
  const domainCode = findDomainError(error)?.code;
  if (domainCode) return domainCode;
  const code = (error as { extensions?: { code?: unknown } } | undefined)?.extensions?.code;
  if (code !== undefined && code !== 'INTERNAL_SERVER_ERROR') return String(code);
  return isDatabaseUnavailable(error) ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_SERVER_ERROR';
}

export interface ErrorFormatterOptions {
  onInternalError?: (error: unknown) => void;
  requestId?: () => string | undefined;
}

/**
 * Apollo `formatError`: domain errors keep their code and message; an unreachable database becomes
 * SERVICE_UNAVAILABLE; anything else unexpected becomes a generic INTERNAL_SERVER_ERROR. Neither carries
 * a stack, SQL or driver message; both are logged instead.
 */
export function createErrorFormatter(options: ErrorFormatterOptions = {}) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const requestId = options.requestId?.();
    const domainError = findDomainError(error);
    if (domainError) {
      return {
        message: domainError.message,
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: domainError.code, ...domainError.details, ...(requestId ? { requestId } : {}) },
      };
    }
    const code = String(formatted.extensions?.code ?? '');
    if (CLIENT_CODES.has(code)) {
      const { stacktrace: _stack, exception: _exception, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: { ...extensions, ...(requestId ? { requestId } : {}) } };
    }
    options.onInternalError?.(error);
    if (isDatabaseUnavailable(error)) {
      return {
        message: 'A service this request needs is unavailable right now; try again shortly',
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: 'SERVICE_UNAVAILABLE', ...(requestId ? { requestId } : {}) },
      };
    }
    return {
      message: 'Internal server error',
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
    };
  };
}
