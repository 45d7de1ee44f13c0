import { GraphQLError } from 'graphql';
import { Writable } from 'node:stream';
import { createErrorFormatter, DomainError } from '../src/errors.ts';
import { ConfigError, env, parseConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { runWithRequestContext } from '../src/request-context.ts';

describe('error formatting', () => {
  const internal: unknown[] = [];
  const format = createErrorFormatter({ onInternalError: (error) => internal.push(error), requestId: () => 'req-1' });

  it('keeps a domain error code and the field it names', () => {
    const original = new DomainError('BAD_USER_INPUT', 'price must be >= 0', { field: 'priceCents' });
    const wrapped = new GraphQLError(original.message, { originalError: original, path: ['createProduct'] });
    expect(format({ message: wrapped.message, path: ['createProduct'] }, wrapped)).toEqual({
      message: 'price must be >= 0',
      path: ['createProduct'],
      locations: undefined,
      extensions: { code: 'BAD_USER_INPUT', field: 'priceCents', requestId: 'req-1' },
    });
  });

  it('hides internals of unexpected errors', () => {
    const sqlError = new Error('relation "products" does not exist at character 15');
    const wrapped = new GraphQLError(sqlError.message, { originalError: sqlError });
    const formatted = format(
      { message: wrapped.message, extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at x'] } },
      wrapped,
    );
    expect(formatted.message).toBe('Internal server error');
    expect(JSON.stringify(formatted)).not.toMatch(/relation|stacktrace/);
    expect(internal).toContain(wrapped);
  });
});

describe('configuration', () => {
  it('names every bad variable', () => {
    const shape = { PORT: env.port(4000), FLAG: env.bool(false) };
    expect(parseConfig(shape, {})).toEqual({ PORT: 4000, FLAG: false });
    try {
      parseConfig(shape, { PORT: 'eighty', FLAG: 'maybe' });
      throw new Error('expected ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['PORT', 'FLAG']);
    }
  });

  it('reads a trusted-proxy setting as a hop count or an address list, and refuses the rest', () => {
    const shape = { TRUST: env.trustProxy('loopback') };
    expect(parseConfig(shape, {})).toEqual({ TRUST: 'loopback' });
    expect(parseConfig(shape, { TRUST: '1' })).toEqual({ TRUST: 1 });
    expect(parseConfig(shape, { TRUST: ' 10.0.0.0/8, loopback ' })).toEqual({ TRUST: '10.0.0.0/8, loopback' });
    expect(parseConfig(shape, { TRUST: 'uniquelocal,192.0.2.10' })).toEqual({ TRUST: 'uniquelocal,192.0.2.10' });
    // `true` (trust everyone) would let any client choose its own address; a typo must not start a service either.
    for (const bad of ['true', 'gateway.internal', '10.0.0.0/33', '', '-1']) {
      expect(() => parseConfig(shape, { TRUST: bad })).toThrow(ConfigError);
    }
    expect(() => parseConfig(shape, { TRUST: 'gateway.internal' })).toThrow(
      expect.objectContaining({
        problems: [{ variable: 'TRUST', problem: expect.stringContaining('hop count or comma-separated addresses') }],
      }),
    );
  });
});

describe('structured logging', () => {
  it('adds request ids and redacts secrets', () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const logger = createLogger({ service: 'test', destination });
    runWithRequestContext({ requestId: 'r-42', traceId: 't-42' }, () => {
      logger.info(
        { password: 'hunter2', input: { token: 'tok_secret' }, headers: { authorization: 'Bearer abc' } },
        'login attempt',
      );
    });
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'info', service: 'test', requestId: 'r-42', traceId: 't-42', msg: 'login attempt' });
    expect(lines[0]).not.toMatch(/hunter2|tok_secret|Bearer abc/);
  });
});
