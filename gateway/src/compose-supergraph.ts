/**
 * Composes the subgraphs' `schema.graphql` files into `gateway/supergraph.graphql` with Apollo's
 * composition library. `--check` fails (exit 1) when composition reports errors or the committed
 * file is stale, so CI catches a subgraph change that was not recomposed.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'graphql';
import { composeServices } from '@apollo/composition';
import { DEFAULT_PORTS, REPO_ROOT, SERVICE_NAMES } from '@commerce/runtime/services';

export const SUPERGRAPH_FILE = path.join(REPO_ROOT, 'gateway', 'supergraph.graphql');

export const subgraphSchemaFile = (name: string) =>
  path.join(REPO_ROOT, 'subgraphs', name, 'src', 'adapters', 'graphql', 'schema.graphql');

export function composeSupergraph(): string {
  const services = SERVICE_NAMES.filter((name) => existsSync(subgraphSchemaFile(name))).map((name) => ({
    name,
    url: `http://localhost:${DEFAULT_PORTS[name]}/graphql`,
    typeDefs: parse(readFileSync(subgraphSchemaFile(name), 'utf8')),
  }));
  const result = composeServices(services);
  if (result.errors) {
    throw new Error(`supergraph composition failed:\n${result.errors.map((error) => `- ${error.message}`).join('\n')}`);
  }
  return result.supergraphSdl;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  try {
    const sdl = composeSupergraph();
    const current = existsSync(SUPERGRAPH_FILE) ? readFileSync(SUPERGRAPH_FILE, 'utf8') : '';
    if (check) {
      if (current !== sdl) {
        console.error('gateway/supergraph.graphql is stale: run `npm run compose` and commit the result');
        process.exit(1);
      }
      console.log('supergraph.graphql is up to date');
    } else {
      writeFileSync(SUPERGRAPH_FILE, sdl);
      console.log(`wrote ${path.relative(REPO_ROOT, SUPERGRAPH_FILE)}`);
    }
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
