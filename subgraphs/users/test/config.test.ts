// The users service's own settings: refused at start when they could never work.
import { ConfigError } from '@commerce/platform';
import { loadUsersSettings } from '../src/config.ts';

describe('users settings', () => {
  it('defaults to 15-minute access tokens', () => {
    expect(loadUsersSettings({}).accessTokenTtlSeconds).toBe(900);
  });

  it('refuses access tokens that live longer than verifiers accept (JWT_MAX_LIFETIME_SECONDS)', () => {
    const load = () => loadUsersSettings({ USERS_ACCESS_TOKEN_TTL_SECONDS: '1800', JWT_MAX_LIFETIME_SECONDS: '600' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/USERS_ACCESS_TOKEN_TTL_SECONDS.*JWT_MAX_LIFETIME_SECONDS/);
    expect(
      loadUsersSettings({ USERS_ACCESS_TOKEN_TTL_SECONDS: '600', JWT_MAX_LIFETIME_SECONDS: '600' }).accessTokenTtlSeconds,
    ).toBe(600);
  });

  it('keeps access tokens short: at most an hour', () => {
    expect(() => loadUsersSettings({ USERS_ACCESS_TOKEN_TTL_SECONDS: '7200' })).toThrow(/at most 3600/);
  });
});
