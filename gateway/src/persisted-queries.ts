/**
 * Automatic persisted queries (APQ) for the mobile app, stored in the gateway's cache (Redis in full
 * mode, so any gateway instance knows a hash registered through another), and an optional safelist:
 * with GATEWAY_SAFELIST_FILE set, only the operations in that manifest run (by hash or by text),
 * except for admins, whose playground must stay usable.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GraphQLError } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import { ConfigError } from '@commerce/platform';
import type { GatewayContext } from './context.ts';

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
