/**
 * Automatic persisted queries (APQ) for the mobile app, in a store of their own — apart from the
 * response cache, so a flood of registrations can never evict cached answers: a byte-bounded LRU in
 * memory, or in Redis (full mode, so any gateway instance knows a hash registered through another) one
 * byte-bounded structure under its own keys. Registrations are rate limited per client address. And an
 * optional safelist: with GATEWAY_SAFELIST_FILE set, only the operations in that manifest run (by hash
 * or by text), except for admins, whose playground must stay usable.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import {
  addressKey,
  ConfigError,
  errorSummary,
  isRateLimiterRes,
  retryAfterSeconds,
  type Logger,
  type RateLimiterAbstract,
} from '@commerce/platform';
import type { GatewayContext } from './context.ts';
import type { GatewayMetrics } from './observability/metrics.ts';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export interface Safelist {
  /** sha256 of the operation text → the text */
  operations: Map<string, string>;
}

interface ManifestOperation {
  id?: string;
  body: string;
}

/** Reads an Apollo persisted-query manifest (`{ format, version, operations: [{ id, name, type, body }] }`). */
export function loadSafelist(file: string): Safelist {
  let operations: ManifestOperation[];
  try {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as { operations?: ManifestOperation[] };
    if (!Array.isArray(manifest.operations)) throw new Error('no operations array');
    operations = manifest.operations;
  } catch (error) {
    throw new ConfigError([
      { variable: 'GATEWAY_SAFELIST_FILE', problem: `not a persisted-query manifest: ${(error as Error).message}` },
    ]);
  }
  const map = new Map<string, string>();
  for (const operation of operations) {
    if (typeof operation.body !== 'string') continue;
    const hash = sha256(operation.body);
    if (operation.id && operation.id !== hash) {
      throw new ConfigError([
        { variable: 'GATEWAY_SAFELIST_FILE', problem: `operation id ${operation.id} is not the sha256 of its body` },
      ]);
    }
    map.set(hash, operation.body);
  }
  return { operations: map };
}

/** APQ storage that also answers hash-only requests for safelisted operations without registration. */
export function persistedQueryCache(cache: KeyValueCache<string>, safelist?: Safelist): KeyValueCache<string> {
  if (!safelist) return cache;
  return {
    // Apollo prefixes APQ keys with `apq:` before they reach this cache.
    get: async (key) => safelist.operations.get(key.replace(/^apq:/, '')) ?? cache.get(key),
    set: (key: string, value: string, options?: KeyValueCacheSetOptions) => cache.set(key, value, options),
    delete: (key) => cache.delete(key),
  };
}

export function safelistPlugin(safelist: Safelist): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ queryHash, contextValue }) {
          if (contextValue.viewer?.role === 'ADMIN') return;
          if (!safelist.operations.has(queryHash)) {
            throw new GraphQLError('This operation is not in the safelist of persisted queries', {
              extensions: { code: 'PERSISTED_QUERY_NOT_ALLOWED', http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/** Embedded mode: registered queries in an LRU bounded by their total size, apart from the response cache. */
export function memoryPersistedQueryStore(maxBytes: number): KeyValueCache<string> {
  return new InMemoryLRUCache<string>({ maxSize: maxBytes, sizeCalculation: InMemoryLRUCache.sizeCalculation });
}

/** What one entry is counted as beyond its query text (its hash, the index entry). */
const ENTRY_OVERHEAD_BYTES = 128;

// Keys: a hash of key → query, a sorted set of key → last use (ms, Redis's clock), the total bytes.
// Registering evicts the least recently used entries until the total fits; entries unused for the TTL go.
const REGISTER_SCRIPT = `
local queries, used, total = KEYS[1], KEYS[2], KEYS[3]
local key, query, ttlMs, maxBytes, overhead = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if redis.call('EXISTS', queries) == 0 then redis.call('DEL', used, total) end
local function drop(member)
  local size = redis.call('HSTRLEN', queries, member)
  redis.call('HDEL', queries, member)
  redis.call('ZREM', used, member)
  if size > 0 then return redis.call('DECRBY', total, size + overhead) end
  return tonumber(redis.call('GET', total) or '0')
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', used, '-inf', now - ttlMs, 'LIMIT', 0, 64)) do drop(member) end
local size = string.len(query) + overhead
if size > maxBytes then return 0 end
redis.call('ZADD', used, now, key)
if redis.call('HSETNX', queries, key, query) == 1 then
  local bytes = redis.call('INCRBY', total, size)
  while bytes > maxBytes do
    local oldest = redis.call('ZRANGE', used, 0, 0)[1]
    if not oldest or oldest == key then break end
    bytes = drop(oldest)
  end
end
redis.call('PEXPIRE', queries, ttlMs)
redis.call('PEXPIRE', used, ttlMs)
redis.call('PEXPIRE', total, ttlMs)
return 1
`;

// A use refreshes the entry's place in the LRU (at most once a minute: a hit should not always write).
const LOOKUP_SCRIPT = `
local queries, used = KEYS[1], KEYS[2]
local key, ttlMs = ARGV[1], tonumber(ARGV[2])
local score = redis.call('ZSCORE', used, key)
if not score then return false end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if tonumber(score) < now - ttlMs then return false end
if tonumber(score) < now - 60000 then redis.call('ZADD', used, now, key) end
return redis.call('HGET', queries, key)
`;

interface PersistedQueryCommands {
  apqRegister(queries: string, used: string, total: string, ...args: (string | number)[]): Promise<number>;
  apqLookup(queries: string, used: string, ...args: (string | number)[]): Promise<string | null>;
}

/**
 * Full mode: every registered query in one byte-bounded structure under `<prefix>{apq}:` (one hash slot,
 * so a Redis cluster runs the scripts), never among the response cache's keys: however many queries are
 * registered, APQ holds at most `maxBytes` of Redis's memory, so it cannot push cached answers out.
 */
export class RedisPersistedQueryStore implements KeyValueCache<string> {
  private readonly redis: Redis & PersistedQueryCommands;
  private readonly queriesKey: string;
  private readonly usedKey: string;
  private readonly totalKey: string;

  constructor(
    redis: Redis,
    prefix: string,
    private readonly options: { maxBytes: number; ttlSeconds: number },
  ) {
    if (!('apqRegister' in redis)) {
      redis.defineCommand('apqRegister', { numberOfKeys: 3, lua: REGISTER_SCRIPT });
      redis.defineCommand('apqLookup', { numberOfKeys: 2, lua: LOOKUP_SCRIPT });
    }
    this.redis = redis as Redis & PersistedQueryCommands;
    this.queriesKey = `${prefix}{apq}:queries`;
    this.usedKey = `${prefix}{apq}:used`;
    this.totalKey = `${prefix}{apq}:bytes`;
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.apqLookup(this.queriesKey, this.usedKey, key, this.options.ttlSeconds * 1000)) ?? undefined;
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ttlSeconds = Math.min(options?.ttl ?? this.options.ttlSeconds, this.options.ttlSeconds);
    await this.redis.apqRegister(
      this.queriesKey,
      this.usedKey,
      this.totalKey,
      key,
      value,
      Math.max(1, Math.ceil(ttlSeconds)) * 1000,
      this.options.maxBytes,
      ENTRY_OVERHEAD_BYTES,
    );
  }

  async delete(key: string): Promise<boolean> {
    const [removed] = await Promise.all([this.redis.hdel(this.queriesKey, key), this.redis.zrem(this.usedKey, key)]);
    return removed > 0;
  }

  /** Bytes registered (tests, metrics). */
  async bytes(): Promise<number> {
    return Number((await this.redis.get(this.totalKey)) ?? 0);
  }
}

/** Whether an operation of a request carries its query text together with an APQ hash (a registration). */
function isRegistration(operation: unknown): boolean {
  if (operation === null || typeof operation !== 'object') return false;
  const { query, extensions } = operation as { query?: unknown; extensions?: unknown };
  if (typeof query !== 'string' || query === '') return false;
  // GET carries extensions as JSON text: seeing the word is enough to count it (a false count costs a point).
  if (typeof extensions === 'string') return extensions.includes('persistedQuery');
  return typeof extensions === 'object' && extensions !== null && 'persistedQuery' in extensions;
}

/**
 * Registrations per client address: each costs a point of a small budget, so one client cannot churn the
 * APQ store and push out the hashes everyone else registered. Over budget: 429 RATE_LIMITED. Counted by
 * address whatever token comes along (tokens are free to mint for a registered customer).
 */
export function apqRegistrationLimit(limiter: RateLimiterAbstract, logger: Logger, metrics?: GatewayMetrics): RequestHandler {
  return (req, res, next) => {
    const operations: unknown[] = req.method === 'GET' ? [req.query] : Array.isArray(req.body) ? req.body : [req.body];
    const registrations = operations.filter(isRegistration).length;
    if (registrations === 0) return next();
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    limiter.consume(`ip:${addressKey(address)}`, registrations).then(
      () => next(),
      (outcome: unknown) => {
        if (!isRateLimiterRes(outcome)) {
          // The store failed and no insurance could answer: serve the request rather than fail it.
          logger.warn({ err: errorSummary(outcome), policy: 'apqRegistration' }, 'rate limiter unavailable; request allowed');
          return next();
        }
        metrics?.rateLimited.inc({ policy: 'apqRegistration' });
        const retryAfter = retryAfterSeconds(outcome);
        res
          .status(429)
          .setHeader('retry-after', String(retryAfter))
          .json({
            errors: [
              {
                message: `Too many persisted-query registrations; retry in ${retryAfter} s`,
                extensions: { code: 'RATE_LIMITED', retryAfter, policy: 'apqRegistration', requestId: req.context?.requestId },
              },
            ],
          });
      },
    );
  };
}
