/**
 * Full-response cache for queries (Apollo's response-cache plugin) with entity-tagged purging.
 * - The cache policy is the subgraphs' own: their Cache-Control headers (from `@cacheControl` hints)
 *   restrict each response's max-age and scope; a subgraph that sends none makes it uncacheable.
 * - PUBLIC responses are shared; PRIVATE ones are keyed by the verified user id (never the raw
 *   header) and anonymous callers never get or store one. Mutations are never cached.
 * - Each stored response is tagged with the entities it contains, so a catalog event purges it.
 *   A response computed before a purge of one of its tags is not kept (see `TaggingCache.set`).
 */
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import ApolloServerPluginResponseCache from '@apollo/server-plugin-response-cache';
import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import { errorSummary, type Logger } from '@commerce/platform';
import type { GatewayContext } from '../context.ts';
import { collectEntityTags } from './entity-tags.ts';
import type { CacheStore } from './store.ts';

/** The response-cache plugin's key prefix inside the shared cache. */
const RESPONSE_KEY_PREFIX = 'fqc:';
interface PendingWrite {
  tags: string[];
  receivedAt: number;
}

/**
 * The cache the plugin writes through. A write is accepted only with the tags computed for it
 * (an entry nobody could purge is never stored), and is deleted again when one of its tags was
 * purged after the request arrived: the data may predate the change, so it must not outlive it.
 * Mark-then-delete on the purge side and write-then-check here make either side win the race.
 */
class TaggingCache implements KeyValueCache<string> {
  readonly pending = new Map<string, PendingWrite>();

  constructor(
    private readonly store: CacheStore,
    private readonly logger: Logger,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return await this.store.get(key);
    } catch (error) {
      this.logger.warn({ err: errorSummary(error) }, 'response cache read failed; serving uncached');
      return undefined;
    }
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const write = this.pending.get(key);
    this.pending.delete(key);
    if (!write) return;
    const ttl = options?.ttl ?? 0;
    if (ttl <= 0) return;
    try {
      await this.store.set(key, value, { ttl });
      await this.store.tag(key, write.tags, ttl);
      // Both times on the store's clock (Redis's in full mode), so gateways with skewed clocks agree.
      const received = this.store.storeTime(write.receivedAt);
      if ((await this.store.lastPurgedAt(write.tags)) >= received.at - received.uncertaintyMs) await this.store.delete(key);
    } catch (error) {
      this.logger.warn({ err: errorSummary(error) }, 'response cache write failed');
      await this.store.delete(key).catch(() => undefined);
    }
  }

  async delete(key: string): Promise<boolean | void> {
    return this.store.delete(key);
  }
}

export function responseCachePlugin(store: CacheStore, logger: Logger): ApolloServerPlugin<GatewayContext> {
  const cache = new TaggingCache(store, logger);
  const tagsOf = new WeakMap<object, string[]>();
  return ApolloServerPluginResponseCache<GatewayContext>({
    cache,
    // Private entries belong to the verified user; null (anonymous) means private data is never cached.
    sessionId: async ({ contextValue }) => contextValue.viewer?.userId ?? null,
    // Defence in depth: an admin's "public" answers are never shared with customers or vice versa.
    extraCacheKeyData: async ({ contextValue }) => ({ role: contextValue.viewer?.role ?? 'ANONYMOUS' }),
    shouldWriteToCache: async (requestContext) => {
      const { response, schema, document, operation, contextValue } = requestContext as GraphQLRequestContext<GatewayContext> &
        Required<Pick<GraphQLRequestContext<GatewayContext>, 'document' | 'operation'>>;
      if (response.body?.kind !== 'single' || !document || !operation) return false;
      const { data, errors } = response.body.singleResult;
      // Same conditions the plugin checks next; tag only what it would actually store.
      if (!data || errors || !requestContext.overallCachePolicy.policyIfCacheable()) return false;
      tagsOf.set(contextValue, collectEntityTags(schema, document, operation, data));
      return true;
    },
    generateCacheKey: (requestContext, keyData) => {
      const key = createHash('sha256').update(JSON.stringify(keyData)).digest('hex');
      const context = requestContext.contextValue as GatewayContext;
      const tags = tagsOf.get(context);
      if (tags) {
        // Only the write path computed tags; the next `set` of this key is that write.
        tagsOf.delete(context);
        cache.pending.set(RESPONSE_KEY_PREFIX + key, { tags, receivedAt: context.receivedAt });
      }
      return key;
    },
  });
}
