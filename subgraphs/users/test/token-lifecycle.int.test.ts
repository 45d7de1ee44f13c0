/**
 * The whole token lifecycle on real PostgreSQL, through the gateway: register → login → refresh
 * (rotation) → reuse of the old refresh token revokes the family → logout. Plus what only a real
 * database can show: concurrent use of one refresh token.
 */
import { createHash } from 'node:crypto';
import { describeWithServers, startTestStack, type TestStack } from '@commerce/testkit';
import type { UsersService } from '../src/main.ts';
import {
  auth,
  errorCode,
  graphqlClient,
  LOGIN,
  LOGOUT,
  REFRESH,
  register,
  uniqueEmail,
  type GraphQLCall,
  type Session,
} from './support/users-service.ts';

describeWithServers(['TEST_DATABASE_URL'], 'token lifecycle on PostgreSQL', () => {
  let stack: TestStack;
  let gql: GraphQLCall;
  let prisma: UsersService['prisma'];
  const PASSWORD = 'a perfectly fine passphrase';

  beforeAll(async () => {
    stack = await startTestStack({
      database: 'postgres',
      env: { GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '100000', GATEWAY_RATE_LIMIT_POINTS: '100000' },
    });
    gql = graphqlClient(stack.gatewayUrl);
    prisma = (stack.services.users as UsersService).prisma;
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  const refresh = (refreshToken: string) => gql<{ refreshToken: Session }>(REFRESH, { refreshToken });
  const me = (session: Session) => gql<{ me: { id: string } | null }>('{ me { id email } }', {}, auth(session.accessToken));

  it('register → login → refresh (rotation) → reuse revokes the family → logout', async () => {
    const email = uniqueEmail('lifecycle');
    const registered = await register(gql, email, PASSWORD);
    expect((await me(registered)).body.data?.me).toEqual({ id: registered.user.id, email });

    const login = (await gql<{ login: Session }>(LOGIN, { email, password: PASSWORD })).body.data!.login;
    expect(login.refreshToken).not.toBe(registered.refreshToken);

    // Rotation: each use returns a new pair; the tokens are stored only as SHA-256 fingerprints.
    const rotated = (await refresh(login.refreshToken)).body.data!.refreshToken;
    expect(rotated.refreshToken).not.toBe(login.refreshToken);
    expect((await me(rotated)).body.data?.me?.id).toBe(registered.user.id);
    const stored = await prisma.refreshToken.findMany({ where: { family: { userId: registered.user.id } } });
    expect(stored.map((row) => row.tokenHash).join()).not.toContain(login.refreshToken);
    expect(stored.every((row) => /^[\da-f]{64}$/.test(row.tokenHash))).toBe(true);
    const again = (await refresh(rotated.refreshToken)).body.data!.refreshToken;

    // Someone replays the first, already-rotated token: refused, and the whole login session dies with it.
    expect(errorCode(await refresh(login.refreshToken))).toBe('UNAUTHENTICATED');
    expect(errorCode(await refresh(again.refreshToken))).toBe('UNAUTHENTICATED');
    const loginTokenHash = createHash('sha256').update(login.refreshToken).digest('hex');
    const family = await prisma.sessionFamily.findFirstOrThrow({ where: { tokens: { some: { tokenHash: loginTokenHash } } } });
    expect(family).toMatchObject({ revokedReason: 'reuse', revokedAt: expect.any(Date) });

    // The session started by register is a different family and lives on, until logout.
    const registeredRotated = (await refresh(registered.refreshToken)).body.data!.refreshToken;
    expect((await gql(LOGOUT, { refreshToken: registeredRotated.refreshToken })).body.data).toEqual({ logout: true });
    expect(errorCode(await refresh(registeredRotated.refreshToken))).toBe('UNAUTHENTICATED');
    expect(await prisma.sessionFamily.count({ where: { userId: registered.user.id, revokedAt: null } })).toBe(0);
  });

  it('lets exactly one of many concurrent refreshes with the same token win, then treats the rest as reuse', async () => {
    const email = uniqueEmail('race');
    await register(gql, email, PASSWORD);
    const login = (await gql<{ login: Session }>(LOGIN, { email, password: PASSWORD })).body.data!.login;
    const attempts = await Promise.all(Array.from({ length: 8 }, () => refresh(login.refreshToken)));
    const winners = attempts.filter((attempt) => attempt.body.data?.refreshToken);
    expect(winners).toHaveLength(1);
    expect(attempts.filter((attempt) => errorCode(attempt) === 'UNAUTHENTICATED')).toHaveLength(7);
    // Only one successor was ever stored, and the losers' reuse revoked the family, winner's token included.
    expect(await prisma.refreshToken.count({ where: { family: { user: { email } } } })).toBe(3); // register's + login's + one successor
    expect(errorCode(await refresh(winners[0]!.body.data!.refreshToken.refreshToken))).toBe('UNAUTHENTICATED');
  });

  it('keeps refresh tokens working after the access token expires, and expired refresh tokens do not', async () => {
    const email = uniqueEmail('expiry');
    const session = await register(gql, email, PASSWORD);
    // Age the stored token past its expiry (a real clock would take 30 days).
    await prisma.refreshToken.updateMany({
      where: { family: { userId: session.user.id } },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(errorCode(await refresh(session.refreshToken))).toBe('UNAUTHENTICATED');
  });
});
