import { ConfigError, DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, env, parseConfig, z } from '@commerce/platform';

/** The users service's own settings (documented in docs/configuration.md, "Users service"). */
export function loadUsersSettings(source: Record<string, string | undefined>) {
  const parsed = parseConfig(
    {
      USERS_ACCESS_TOKEN_TTL_SECONDS: env.positiveInt(900),
      USERS_REFRESH_TOKEN_TTL_SECONDS: env.positiveInt(30 * 24 * 3600),
      USERS_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT: env.positiveInt(5),
      USERS_LOGIN_MAX_ATTEMPTS_PER_IP: env.positiveInt(50),
      USERS_LOGIN_WINDOW_SECONDS: env.positiveInt(900),
      USERS_LOGIN_MAX_DELAY_SECONDS: env.positiveInt(4),
      USERS_JWKS_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(300),
      USERS_TRUST_PROXY: env.trustProxy('loopback'),
      USERS_REDIS_PREFIX: z.string().default('users:'),
      JWT_MAX_LIFETIME_SECONDS: env.positiveInt(DEFAULT_MAX_TOKEN_LIFETIME_SECONDS),
    },
    source,
  );
  if (parsed.USERS_ACCESS_TOKEN_TTL_SECONDS > 3600) {
    // Access tokens cannot be revoked: keep their lifetime short.
    throw new ConfigError([{ variable: 'USERS_ACCESS_TOKEN_TTL_SECONDS', problem: 'must be at most 3600' }]);
  }
  if (parsed.USERS_ACCESS_TOKEN_TTL_SECONDS > parsed.JWT_MAX_LIFETIME_SECONDS) {
    // Every verifier (this service included) refuses a token that lives longer: users' own tokens would never work.
    throw new ConfigError([
      {
        variable: 'USERS_ACCESS_TOKEN_TTL_SECONDS',
        problem: 'must not exceed JWT_MAX_LIFETIME_SECONDS (verifiers refuse longer-lived tokens)',
      },
    ]);
  }
  return {
    accessTokenTtlSeconds: parsed.USERS_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: parsed.USERS_REFRESH_TOKEN_TTL_SECONDS,
    loginThrottle: {
      maxAttemptsPerAccount: parsed.USERS_LOGIN_MAX_ATTEMPTS_PER_ACCOUNT,
      maxAttemptsPerIp: parsed.USERS_LOGIN_MAX_ATTEMPTS_PER_IP,
      windowSeconds: parsed.USERS_LOGIN_WINDOW_SECONDS,
      maxDelaySeconds: parsed.USERS_LOGIN_MAX_DELAY_SECONDS,
      /** Every Redis key of the login counters starts with it, so environments can share one Redis. */
      redisPrefix: parsed.USERS_REDIS_PREFIX,
    },
    jwksMaxAgeSeconds: parsed.USERS_JWKS_MAX_AGE_SECONDS,
    /** Whose X-Forwarded-For names the client for per-address login throttling (the gateway's address range). */
    trustProxy: parsed.USERS_TRUST_PROXY,
  };
}

export type UsersSettings = ReturnType<typeof loadUsersSettings>;
