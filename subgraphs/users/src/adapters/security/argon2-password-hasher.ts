import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify } from '@node-rs/argon2';
import type { PasswordHasher } from '../../ports/security.ts';

/** Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane); raise here, old hashes upgrade at login. */
export const ARGON2_PARAMETERS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const ARGON2ID = 2; // Algorithm.Argon2id (an ambient const enum, which isolatedModules cannot reference)

/**
 * Argon2id through @node-rs/argon2 (prebuilt N-API binaries shipped as per-platform npm packages: no build or
 * install script). Hashing runs on libuv's thread pool, off the event loop.
 */
export class Argon2PasswordHasher implements PasswordHasher {
  private dummyHash: Promise<string> | undefined;

  hash(password: string): Promise<string> {
    return hash(password, { ...ARGON2_PARAMETERS, algorithm: ARGON2ID });
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false; // a malformed stored hash never matches
    }
  }

  needsRehash(passwordHash: string): boolean {
    try {
      const options = parseOptions(passwordHash);
      return (
        (options.algorithm as number) !== ARGON2ID ||
        options.memoryCost < ARGON2_PARAMETERS.memoryCost ||
        options.timeCost < ARGON2_PARAMETERS.timeCost
      );
    } catch {
      return true;
    }
  }

  async verifyAgainstDummy(password: string): Promise<void> {
    // A hash of a random secret with today's parameters: verifying against it costs what a real check costs.
    this.dummyHash ??= this.hash(randomBytes(32).toString('base64url'));
    await this.verify(await this.dummyHash, password);
  }
}
