import express from 'express';
import { z } from 'zod';

export { z };

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; problem: string }[]) {
    super(problems.map((p) => `${p.variable}: ${p.problem}`).join('; '));
    this.name = 'ConfigError';
  }
}

/**
 * Parses environment variables against a zod object whose keys are the variable names.
 * Throws ConfigError naming every bad variable; `exitOnConfigError` turns that into one log line.
 */
export function parseConfig<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<Shape>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({ variable: issue.path.join('.') || '(environment)', problem: issue.message })),
  );
}

/** Shared field types so every service reads its variables the same way. */
export const env = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  optionalPort: () => z.coerce.number().int().min(0).max(65535).optional(),
  /** Where `/health`, `/ready` and `/metrics` listen: loopback unless a deployment opens it (k8s: 0.0.0.0). */
  managementHost: () => z.string().trim().min(1).default('127.0.0.1'),
  url: () => z.string().url(),
  optionalUrl: () => z.string().url().optional(),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(fallback ? 'true' : 'false')
      .transform((value) => value === 'true' || value === '1' || value === 'yes'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  nodeEnv: () => z.enum(['development', 'test', 'production']).default('development'),
  positiveInt: (fallback: number) => z.coerce.number().int().positive().default(fallback),
  /**
   * Which proxies' `X-Forwarded-For` names the client address (`req.ip`), as Express's `trust proxy`:
   * a number of hops to trust (`1`: the load balancer in front), or addresses, CIDR ranges and the names
   * `loopback`, `linklocal`, `uniquelocal`, comma-separated. Trusting every proxy (`true`) is refused:
   * any client could then choose the address its rate limits are counted under.
   */
  trustProxy: (fallback: string) =>
    z
      .string()
      .trim()
      .min(1)
      .default(fallback)
      .transform((value, context): string | number => {
        const setting = /^\d+$/.test(value) ? Number(value) : value;
        try {
          express().set('trust proxy', setting); // compiles it: an address that is not one throws
          return setting;
        } catch (error) {
          context.addIssue({
            code: 'custom',
            message: `expected a hop count or comma-separated addresses, CIDR ranges, loopback, linklocal or uniquelocal (${(error as Error).message})`,
          });
          return z.NEVER;
        }
      }),
};
