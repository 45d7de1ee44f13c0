// Regression (reliability/faults-infrastructure): while PostgreSQL was down, clients got
// INTERNAL_SERVER_ERROR for every request that touched the database; it is SERVICE_UNAVAILABLE now.
import { GraphQLError } from 'graphql';
import { createErrorFormatter, DomainError, errorCodeOf, isDatabaseUnavailable } from '../src/errors.ts';

/** What Prisma 7 with the pg adapter throws when the server is down (P1001, the adapter's cause inside). */
function prismaUnreachable(): Error {
  return Object.assign(
    new Error("Invalid `prisma.order.findMany()` invocation:\n\nCan't reach database server at 127.0.0.1:37363"),
    {
      name: 'PrismaClientKnownRequestError',
      code: 'P1001',
      meta: {
        driverAdapterError: {
          name: 'DriverAdapterError',
          cause: { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 37363 },
        },
      },
    },
  );
}

describe('a database outage', () => {
  const logged: unknown[] = [];
  const format = createErrorFormatter({ onInternalError: (error) => logged.push(error), requestId: () => 'req-9' });
  const formatWrapped = (original: Error) => {
    const wrapped = new GraphQLError(original.message, { originalError: original, path: ['placeOrder'] });
    return format({ message: wrapped.message, path: ['placeOrder'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }, wrapped);
  };

  it.each([
    ['Prisma cannot reach the server (P1001)', prismaUnreachable()],
    ['the connection is cut mid-query', new Error('Connection terminated unexpectedly')],
    [
      'the server is shutting down (57P01)',
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    ],
    ['the server is still recovering', new Error('the database system is starting up')],
    // pg's answer for a query on a client whose connection a restart cut (was INTERNAL_SERVER_ERROR).
    ['a pooled client lost its connection', new Error('Client has encountered a connection error and is not queryable')],
    // Prisma's raw query on a connection a restart closed, as catalog logged it (was INTERNAL_SERVER_ERROR).
    [
      'Prisma finds its connection closed by the server',
      Object.assign(
        new Error(
          '\nInvalid `prisma.$queryRaw()` invocation:\n\n\nRaw query failed. Code: `N/A`. Message: `Server has closed the connection.`',
        ),
        { code: 'P2010' },
      ),
    ],
    [
      'a refused connection, wrapped as the cause',
      new Error('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }),
    ],
  ])('answers SERVICE_UNAVAILABLE without internals when %s', (_case, error) => {
    const formatted = formatWrapped(error);
    expect(formatted.extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', requestId: 'req-9' });
    expect(formatted.path).toEqual(['placeOrder']);
    expect(JSON.stringify(formatted)).not.toMatch(/127\.0\.0\.1|prisma|Connection terminated|P1001|administrator/i);
    expect(logged.map((entry) => (entry as GraphQLError).originalError)).toContain(error);
  });

  it('leaves other unexpected errors INTERNAL_SERVER_ERROR', () => {
    const sqlError = Object.assign(new Error('relation "orders" does not exist'), { code: '42P01' });
    expect(isDatabaseUnavailable(sqlError)).toBe(false);
    expect(formatWrapped(sqlError).extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(isDatabaseUnavailable(new Error('Cannot read properties of undefined'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});

describe('the code counted in graphql_errors_total (read before formatting)', () => {
  const wrap = (original: Error) => new GraphQLError(original.message, { originalError: original });

  it('counts a database outage as SERVICE_UNAVAILABLE, as clients see it', () => {
    expect(errorCodeOf(wrap(new Error('Client has encountered a connection error and is not queryable')))).toBe(
      'SERVICE_UNAVAILABLE',
    );
    expect(errorCodeOf(wrap(prismaUnreachable()))).toBe('SERVICE_UNAVAILABLE');
  });

  it("keeps a domain error's code and a bug's INTERNAL_SERVER_ERROR", () => {
    expect(errorCodeOf(wrap(new DomainError('BAD_USER_INPUT', 'no')))).toBe('BAD_USER_INPUT');
    expect(errorCodeOf(new GraphQLError('x', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }))).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );
    expect(errorCodeOf(wrap(new TypeError('Cannot read properties of undefined')))).toBe('INTERNAL_SERVER_ERROR');
  });
});
