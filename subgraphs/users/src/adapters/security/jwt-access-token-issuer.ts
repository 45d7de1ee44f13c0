import { signAccessToken, type JwtSettings, type SigningKey } from '@commerce/platform';
import type { Role } from '../../domain/user.ts';
import type { AccessTokenIssuer, IssuedAccessToken } from '../../ports/security.ts';
import type { Clock } from '../../ports/system.ts';

/** RS256 access tokens signed with the service's signing key (claims sub, role, iat, exp, iss, aud; kid in the header). */
export class JwtAccessTokenIssuer implements AccessTokenIssuer {
  constructor(
    private readonly key: SigningKey,
    private readonly settings: JwtSettings,
    private readonly ttlSeconds: number,
    private readonly clock: Clock,
  ) {}

  issue(claims: { userId: string; role: Role }): IssuedAccessToken {
    // jsonwebtoken stamps iat from the wall clock in whole seconds; exp = iat + ttl.
    const issuedAtSeconds = Math.floor(this.clock.now().getTime() / 1000);
    const token = signAccessToken(this.key, { sub: claims.userId, role: claims.role }, this.settings, this.ttlSeconds);
    return { token, expiresAt: new Date((issuedAtSeconds + this.ttlSeconds) * 1000) };
  }
}
