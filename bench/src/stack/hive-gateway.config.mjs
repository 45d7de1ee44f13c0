// Hive Gateway's config for the benchmark (`--config-path`): the peer gateway presents the same proof as
// ours — a subgraph access token (docs/gateway.md) in `x-subgraph-token` on every call to a subgraph,
// HS256-signed with the first key of SUBGRAPH_AUTH_KEYS, `aud` the subgraph's name, reused until 20 s
// before it expires. Plain JavaScript and node:crypto only: Hive's CLI imports this file as it is,
// without our TypeScript loader. Hive with its Rust query planner (`@graphql-hive/router-runtime`, not
// installed here) would take the same plugin: the planner decides the fetches, Hive still sends them.
//
// Environment: SUBGRAPH_AUTH_KEYS (as for our services) and BENCH_SUBGRAPH_AUDIENCES, a JSON object
// mapping each subgraph URL of the supergraph to the subgraph's name.
import { createHmac } from 'node:crypto';

const LIFETIME_SECONDS = 60;
const RENEW_BEFORE_SECONDS = 20;

const [signing] = (process.env.SUBGRAPH_AUTH_KEYS ?? '').split(',');
const separator = signing?.indexOf(':') ?? -1;
if (!signing || separator <= 0) throw new Error('SUBGRAPH_AUTH_KEYS must be kid:secret[,kid:secret…]');
const kid = signing.slice(0, separator);
const secret = Buffer.from(signing.slice(separator + 1), 'base64');
const audiences = new Map(Object.entries(JSON.parse(process.env.BENCH_SUBGRAPH_AUDIENCES ?? '{}')));

const base64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const current = new Map();

/** The token for `audience`, minted again only when the current one nears expiry. */
export function subgraphToken(audience, now = Date.now()) {
  const cached = current.get(audience);
  if (cached && now < cached.renewAt) return cached.token;
  const iat = Math.floor(now / 1000);
  const exp = iat + LIFETIME_SECONDS;
  const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT', kid })}.${base64url({ iss: 'hive-gateway', aud: audience, iat, exp })}`;
  const token = `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
  current.set(audience, { token, renewAt: (exp - RENEW_BEFORE_SECONDS) * 1000 });
  return token;
}

export const gatewayConfig = {
  plugins: () => [
    {
      onFetch({ url, options, setOptions }) {
        const audience = audiences.get(url);
        if (!audience) return;
        const headers =
          options.headers && typeof options.headers.entries === 'function'
            ? Object.fromEntries(options.headers.entries())
            : { ...options.headers };
        setOptions({ ...options, headers: { ...headers, 'x-subgraph-token': subgraphToken(audience) } });
      },
    },
  ],
};
