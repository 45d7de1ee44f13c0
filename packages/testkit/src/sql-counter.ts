import type { Database } from '@commerce/database';

type AdapterFactory = Database['adapter'];

export interface StatementLog {
  /** SQL text of every statement sent through the adapter, in order (transactions included). */
  readonly statements: readonly string[];
  /** Statements so far, optionally only those matching `pattern`. */
  count(pattern?: RegExp): number;
  reset(): void;
}

/**
 * Wraps a Prisma driver adapter factory (`Database.adapter`) so tests can count the SQL statements a
 * request really sends — e.g. to prove DataLoader batching: `new PrismaClient({ adapter: counted.adapter })`.
 */
export function countStatements(factory: AdapterFactory): { adapter: AdapterFactory; log: StatementLog } {
  const statements: string[] = [];
  const counted = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property) {
        const value: unknown = Reflect.get(object, property, object);
        if (typeof value !== 'function') return value;
        if (property === 'queryRaw' || property === 'executeRaw') {
          return (query: { sql: string }, ...rest: unknown[]) => {
            statements.push(query.sql);
            return value.call(object, query, ...rest);
          };
        }
        if (property === 'startTransaction') {
          return async (...args: unknown[]) => counted(await value.apply(object, args));
        }
        return value.bind(object);
      },
    });
  const adapter: AdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => counted(await factory.connect()),
  };
  return {
    adapter,
    log: {
      statements,
      count: (pattern) => (pattern ? statements.filter((sql) => pattern.test(sql)).length : statements.length),
      reset: () => {
        statements.length = 0;
      },
    },
  };
}
