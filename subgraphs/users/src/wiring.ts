import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConfigError, errorSummary, type Logger } from '@commerce/platform';
import type { ServiceRuntime } from '@commerce/runtime';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { AccountDependencies, UsersDependencies } from './application/dependencies.ts';
import type { UsersSettings } from './config.ts';
import { PrismaUserRepository } from './adapters/prisma/prisma-user-repository.ts';
import { PrismaAddressRepository } from './adapters/prisma/prisma-address-repository.ts';
import { PrismaSessionRepository } from './adapters/prisma/prisma-session-repository.ts';
import { Argon2PasswordHasher } from './adapters/security/argon2-password-hasher.ts';
import { JwtAccessTokenIssuer } from './adapters/security/jwt-access-token-issuer.ts';
import { RandomRefreshTokens } from './adapters/security/random-refresh-tokens.ts';
import { RateLimitedLoginThrottle } from './adapters/security/rate-limited-login-throttle.ts';

/** Wires the adapters to the use cases' ports: Prisma for storage, argon2id, RS256, and the login throttle. */
export function createUsersDependencies(
  runtime: ServiceRuntime,
  prisma: PrismaClient,
  settings: UsersSettings,
  redis?: Redis,
): UsersDependencies {
  const signingKey = runtime.jwt.signingKey;
  if (!signingKey) {
    throw new ConfigError([
      { variable: 'JWT_PRIVATE_KEY', problem: 'the users service signs access tokens: set JWT_PRIVATE_KEY and JWT_KEY_ID' },
    ]);
  }
  const account = createAccountDependencies(prisma);
  return {
    ...account,
    addresses: new PrismaAddressRepository(prisma),
    sessions: new PrismaSessionRepository(prisma),
    accessTokens: new JwtAccessTokenIssuer(signingKey, runtime.jwt.settings, settings.accessTokenTtlSeconds, account.clock),
    refreshTokens: new RandomRefreshTokens(),
    throttle: new RateLimitedLoginThrottle(settings.loginThrottle, { redis }),
    refreshTokenTtlSeconds: settings.refreshTokenTtlSeconds,
  };
}

/** The ports account creation needs: storage (the UserRegistered event goes to the outbox with the row) and argon2id. */
export function createAccountDependencies(prisma: PrismaClient): AccountDependencies {
  return {
    users: new PrismaUserRepository(prisma),
    hasher: new Argon2PasswordHasher(),
    clock: { now: () => new Date() },
    ids: { newId: randomUUID },
  };
}

/**
 * Redis for the login counters (shared by every users instance). Commands fail fast while it is down —
 * and time out after `commandTimeoutMs` while it hangs (connected, answering nothing), else a login would
 * wait until the gateway gives up — and the limiter falls back to its in-memory insurance, so logins keep
 * working, throttled per instance.
 */
export function connectRedis(url: string, logger: Logger, commandTimeoutMs = 500): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    commandTimeout: commandTimeoutMs,
  });
  let lastWarning = 0;
  redis.on('error', (error) => {
    if (Date.now() - lastWarning < 30_000) return;
    lastWarning = Date.now();
    logger.warn({ err: errorSummary(error) }, 'redis unavailable: login throttling falls back to in-memory counters');
  });
  return redis;
}
