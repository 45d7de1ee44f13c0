import type { Viewer } from '@commerce/platform';
import type { AddressRepository } from '../ports/address-repository.ts';
import type { AccessTokenIssuer, LoginThrottle, PasswordHasher, RefreshTokenSecrets } from '../ports/security.ts';
import type { SessionRepository } from '../ports/session-repository.ts';
import type { AuditLog, Clock, IdGenerator } from '../ports/system.ts';
import type { UserRepository } from '../ports/user-repository.ts';

/** Everything the use cases depend on: ports only, wired once per service in main.ts. */
export interface UsersDependencies {
  users: UserRepository;
  addresses: AddressRepository;
  sessions: SessionRepository;
  hasher: PasswordHasher;
  accessTokens: AccessTokenIssuer;
  refreshTokens: RefreshTokenSecrets;
  throttle: LoginThrottle;
  clock: Clock;
  ids: IdGenerator;
  refreshTokenTtlSeconds: number;
}

/** What creating an account needs (the create-admin command has nothing else: no tokens, no events bus). */
export type AccountDependencies = Pick<UsersDependencies, 'users' | 'hasher' | 'clock' | 'ids'>;

/** Who is asking, per request. */
export interface Caller {
  viewer: Viewer | null;
  clientIp: string | undefined;
  /** Carried into events as their correlation id. */
  correlationId: string | undefined;
  log: AuditLog;
}
