import { createHash, randomBytes } from 'node:crypto';
import type { RefreshTokenSecrets } from '../../ports/security.ts';

/**
 * 256 random bits, base64url. Only the SHA-256 is stored: a leaked table yields no usable token, and a
 * plain hash suffices because the secret is random and long (no dictionary to try).
 */
export class RandomRefreshTokens implements RefreshTokenSecrets {
  generate(): { token: string; tokenHash: string } {
    const token = randomBytes(32).toString('base64url');
    return { token, tokenHash: this.fingerprint(token) };
  }

  fingerprint(token: string): string {
    return createHash('sha256').update(token, 'utf8').digest('hex');
  }
}
