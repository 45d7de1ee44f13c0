/**
 * Logs are for operators: they must show what happened (user ids, outcomes) and never a password,
 * a password hash or a token, whatever the flow.
 */
import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import {
  auth,
  errorCode,
  LOGIN,
  LOGOUT,
  REFRESH,
  register,
  startUsersService,
  uniqueEmail,
  type Session,
  type UsersHarness,
} from './support/users-service.ts';

const lines: string[] = [];
const destination = new Writable({
  write(chunk, _encoding, done) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});

let users: UsersHarness;
beforeAll(async () => {
  users = await startUsersService({ logDestination: destination });
}, 60_000);
afterAll(async () => {
  await users?.stop();
});

it('never writes passwords, hashes or tokens, at any level', async () => {
  const email = uniqueEmail('logged');
  const password = 'my secret passphrase 1';
  const newPassword = 'my other secret passphrase 2';
  const wrongPassword = 'an attackers guess 3';
  const secrets: string[] = [password, newPassword, wrongPassword];
  const keep = (session: Session) => {
    secrets.push(session.accessToken, session.refreshToken);
    return session;
  };

  const registered = keep(await register(users.gql, email, password));
  expect(errorCode(await users.gql(LOGIN, { email, password: wrongPassword }))).toBe('UNAUTHENTICATED');
  const login = keep((await users.gql<{ login: Session }>(LOGIN, { email, password })).body.data!.login);
  const refreshed = keep(
    (await users.gql<{ refreshToken: Session }>(REFRESH, { refreshToken: login.refreshToken })).body.data!.refreshToken,
  );
  expect(errorCode(await users.gql(REFRESH, { refreshToken: login.refreshToken }))).toBe('UNAUTHENTICATED'); // reuse
  const CHANGE = `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) { accessToken refreshToken user { id } } }`;
  expect(errorCode(await users.gql(CHANGE, { current: wrongPassword, next: newPassword }, auth(registered.accessToken)))).toBe(
    'BAD_USER_INPUT',
  );
  const changed = keep(
    (await users.gql<{ changePassword: Session }>(CHANGE, { current: password, next: newPassword }, auth(refreshed.accessToken)))
      .body.data!.changePassword,
  );
  expect((await users.gql(LOGOUT, { refreshToken: changed.refreshToken })).body.data).toEqual({ logout: true });
  expect(errorCode(await users.gql('{ me { id } }', {}, { authorization: `Bearer ${registered.accessToken}x` }))).toBe(
    'UNAUTHENTICATED',
  );

  // What is stored must not leak either: the password hash and the refresh tokens' fingerprints.
  const stored = await users.service.prisma.user.findUniqueOrThrow({ where: { id: registered.user.id } });
  secrets.push(stored.passwordHash);
  for (const token of secrets.filter((secret) => /^[\w-]{43}$/.test(secret)))
    secrets.push(createHash('sha256').update(token).digest('hex'));

  const log = lines.join('\n');
  // The capture really saw these flows (an empty log would prove nothing).
  for (const message of [
    'user registered',
    'login failed',
    'login succeeded',
    'refresh token reused: session revoked',
    'password changed: all sessions revoked',
    'logged out',
    'request finished',
  ]) {
    expect(log).toContain(message);
  }
  expect(log).toContain(registered.user.id);
  for (const secret of secrets) expect(log).not.toContain(secret);
  expect(log).not.toMatch(/\$argon2/);
  expect(log).not.toMatch(/eyJ[\w-]{10,}\.eyJ/); // any JWT
});
