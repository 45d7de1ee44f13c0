import { toJwks, type SubgraphContextBase, type SubgraphServerOptions, type VerificationKey } from '@commerce/platform';

type RouteInstaller = NonNullable<SubgraphServerOptions<SubgraphContextBase>['routes']>;

export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * Publishes the public keys tokens may be signed with: the current signing key plus any still-trusted
 * older keys (JWT_PUBLIC_KEYS), so verifiers keep accepting tokens across a rotation.
 */
export function jwksRoute(keys: () => Promise<VerificationKey[]>, maxAgeSeconds: number): RouteInstaller {
  return (app) => {
    app.get(JWKS_PATH, async (_req, res, next) => {
      try {
        const unique = new Map((await keys()).map((key) => [key.kid, key]));
        res.setHeader('cache-control', `public, max-age=${maxAgeSeconds}`);
        res.json(toJwks([...unique.values()]));
      } catch (error) {
        next(error);
      }
    });
  };
}
