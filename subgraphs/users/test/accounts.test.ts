/**
 * Embedded flows through the whole graph (gateway + every subgraph on PGlite): accounts, sessions,
 * addresses, privacy of user data, admin operations and the UserRegistered outbox event.
 */
import { bearer, startTestStack, subgraphAccessHeaders, type TestStack } from '@commerce/testkit';
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
  type GraphQLResponse,
  type Session,
} from './support/users-service.ts';

let stack: TestStack;
let gql: GraphQLCall; // through the gateway
let usersSubgraph: GraphQLCall; // the users subgraph directly (federation entity lookups)
let prisma: UsersService['prisma'];

beforeAll(async () => {
  // The gateway's own per-IP limit on login/register would stop a test that signs up dozens of users.
  stack = await startTestStack({ env: { GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '100000', GATEWAY_RATE_LIMIT_POINTS: '100000' } });
  gql = graphqlClient(stack.gatewayUrl);
  usersSubgraph = graphqlClient(stack.services.users!.url);
  prisma = (stack.services.users as UsersService).prisma;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const PASSWORD = 'a perfectly fine passphrase';
const ME = `{ me { id name email role createdAt addresses { id isDefault city } defaultAddress { id } } }`;

describe('registration', () => {
  it('creates a CUSTOMER, signs it in, and shows the new user their own email', async () => {
    const email = uniqueEmail('Reg');
    const session = await register(gql, email, PASSWORD, '  Ann  Lee ');
    expect(session.user).toEqual({ id: expect.any(String), email: email.toLowerCase(), role: 'CUSTOMER' });
    const me = await gql(ME, {}, auth(session.accessToken));
    expect(me.body.data?.me).toMatchObject({
      id: session.user.id,
      name: 'Ann Lee',
      email: email.toLowerCase(),
      role: 'CUSTOMER',
      addresses: [],
    });
  });

  it('refuses a second account for the same email in another case (CONFLICT)', async () => {
    const email = uniqueEmail('dup');
    await register(gql, email);
    const again = await gql(
      `mutation { register(email: "${email.toUpperCase()}", password: "${PASSWORD}", name: "X") { accessToken } }`,
    );
    expect(errorCode(again)).toBe('CONFLICT');
  });

  it.each([
    ['a weak password', { email: uniqueEmail(), password: 'short', name: 'Ann' }, 'password'],
    ['an invalid email', { email: 'not-an-email', password: PASSWORD, name: 'Ann' }, 'email'],
    ['an empty name', { email: uniqueEmail(), password: PASSWORD, name: ' ' }, 'name'],
  ])('refuses %s with BAD_USER_INPUT naming the field', async (_case, variables, field) => {
    const response = await gql(
      `mutation($email: String!, $password: String!, $name: String!) { register(email: $email, password: $password, name: $name) { accessToken } }`,
      variables,
    );
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('offers no way to register as an admin', async () => {
    const response = await gql(
      `mutation { register(email: "${uniqueEmail()}", password: "${PASSWORD}", name: "X", role: ADMIN) { accessToken } }`,
    );
    expect(errorCode(response)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('writes UserRegistered to the outbox in the same transaction, without credentials', async () => {
    const email = uniqueEmail('event');
    const session = await register(gql, email);
    const rows = await prisma.outboxEvent.findMany({ where: { aggregateId: session.user.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ topic: 'users.events', type: 'UserRegistered' });
    expect(rows[0]!.envelope).toMatchObject({
      type: 'UserRegistered',
      version: 1,
      aggregateId: session.user.id,
      payload: { userId: session.user.id, email, name: 'Test User', role: 'CUSTOMER' },
    });
    expect(JSON.stringify(rows[0]!.envelope)).not.toMatch(/argon2|passphrase|password/i);
  });
});

describe('login', () => {
  it('returns a 15-minute RS256 access token with the documented claims, and a refresh token', async () => {
    const email = uniqueEmail('login');
    const registered = await register(gql, email);
    const response = await gql<{ login: Session & { accessTokenExpiresAt: string; refreshTokenExpiresAt: string } }>(LOGIN, {
      email: email.toUpperCase(),
      password: PASSWORD,
    });
    const login = response.body.data!.login;
    const [header, payload] = login.accessToken
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
    expect(header).toMatchObject({ alg: 'RS256', kid: 'test-key' });
    expect(payload).toMatchObject({ sub: registered.user.id, role: 'CUSTOMER', iss: 'commerce-graph', aud: 'commerce-graph' });
    expect((payload!.exp as number) - (payload!.iat as number)).toBe(900);
    expect(Date.parse(login.accessTokenExpiresAt)).toBe((payload!.exp as number) * 1000);
    expect(login.refreshToken).toMatch(/^[\w-]{43}$/);
    expect(Date.parse(login.refreshTokenExpiresAt) - Date.now()).toBeGreaterThan(29 * 24 * 3600 * 1000);
    expect(login.user).toEqual({ id: registered.user.id, email });
  });

  it('answers an unknown email exactly like a wrong password, in similar time', async () => {
    const email = uniqueEmail('timing');
    await register(gql, email);
    const attempt = async (tryEmail: string) => {
      const started = process.hrtime.bigint();
      const response = await gql(LOGIN, { email: tryEmail, password: 'not the password at all' });
      return { response, ms: Number(process.hrtime.bigint() - started) / 1e6 };
    };
    const wrongPassword: { response: GraphQLResponse; ms: number }[] = [];
    const unknownEmail: { response: GraphQLResponse; ms: number }[] = [];
    for (let round = 0; round < 5; round++) {
      wrongPassword.push(await attempt(email));
      unknownEmail.push(await attempt(uniqueEmail('nobody')));
    }
    const shape = (r: GraphQLResponse) => ({ data: r.body.data, message: r.body.errors?.[0]?.message, code: errorCode(r) });
    for (const result of [...wrongPassword, ...unknownEmail]) {
      expect(shape(result.response)).toEqual({ data: null, message: 'Invalid email or password', code: 'UNAUTHENTICATED' });
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    // Both paths run one Argon2id verification; without the dummy hash the unknown email would answer in
    // ~1 ms against ~20–40 ms. The wide margin keeps this meaningful on a loaded machine without flaking.
    expect(median(unknownEmail.map((r) => r.ms))).toBeGreaterThan(median(wrongPassword.map((r) => r.ms)) * 0.25);
  });
});

describe('sessions (embedded; the real-PostgreSQL lifecycle is in token-lifecycle.int.test.ts)', () => {
  it('rotates refresh tokens, and reuse of an old one ends the whole session', async () => {
    const email = uniqueEmail('rotate');
    await register(gql, email);
    const first = (await gql<{ login: Session }>(LOGIN, { email, password: PASSWORD })).body.data!.login;
    const second = (await gql<{ refreshToken: Session }>(REFRESH, { refreshToken: first.refreshToken })).body.data!.refreshToken;
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(errorCode(await gql(REFRESH, { refreshToken: first.refreshToken }))).toBe('UNAUTHENTICATED');
    // The thief's reuse revoked the family: the legitimate holder's newer token is dead too.
    expect(errorCode(await gql(REFRESH, { refreshToken: second.refreshToken }))).toBe('UNAUTHENTICATED');
  });

  it('logout ends the session and answers the same for an unknown token', async () => {
    const session = await register(gql);
    expect((await gql(LOGOUT, { refreshToken: session.refreshToken })).body.data).toEqual({ logout: true });
    expect(errorCode(await gql(REFRESH, { refreshToken: session.refreshToken }))).toBe('UNAUTHENTICATED');
    expect((await gql(LOGOUT, { refreshToken: 'never-issued' })).body.data).toEqual({ logout: true });
  });

  it('me is null for anonymous requests', async () => {
    expect((await gql(ME)).body).toEqual({ data: { me: null } });
  });
});

describe('profile and password', () => {
  it('updates the display name', async () => {
    const session = await register(gql);
    const response = await gql(
      `mutation { updateProfile(input: { name: "  New  Name " }) { id name } }`,
      {},
      auth(session.accessToken),
    );
    expect(response.body.data).toEqual({ updateProfile: { id: session.user.id, name: 'New Name' } });
    expect(errorCode(await gql(`mutation { updateProfile(input: { name: "x" }) { id } }`))).toBe('UNAUTHENTICATED');
  });

  it('changePassword needs the current password, revokes other sessions and returns a fresh pair', async () => {
    const email = uniqueEmail('pw');
    const phone = await register(gql, email);
    const laptop = (await gql<{ login: Session }>(LOGIN, { email, password: PASSWORD })).body.data!.login;
    const CHANGE = `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) { accessToken refreshToken user { id email } } }`;

    const wrong = await gql(CHANGE, { current: 'not my password', next: 'a brand new passphrase' }, auth(laptop.accessToken));
    expect(wrong.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'currentPassword' });
    const weak = await gql(CHANGE, { current: PASSWORD, next: 'short' }, auth(laptop.accessToken));
    expect(weak.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'newPassword' });

    const changed = await gql<{ changePassword: Session }>(
      CHANGE,
      { current: PASSWORD, next: 'a brand new passphrase' },
      auth(laptop.accessToken),
    );
    const fresh = changed.body.data!.changePassword;
    expect(fresh.user).toEqual({ id: phone.user.id, email });
    expect(errorCode(await gql(REFRESH, { refreshToken: phone.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await gql(REFRESH, { refreshToken: laptop.refreshToken }))).toBe('UNAUTHENTICATED');
    expect((await gql(REFRESH, { refreshToken: fresh.refreshToken })).body.data?.refreshToken).toBeTruthy();
    expect(errorCode(await gql(LOGIN, { email, password: PASSWORD }))).toBe('UNAUTHENTICATED');
    expect((await gql(LOGIN, { email, password: 'a brand new passphrase' })).body.data?.login).toBeTruthy();
  });
});

describe('addresses', () => {
  const ADD = `mutation($input: AddressInput!) { addAddress(input: $input) { id city country isDefault } }`;
  const home = {
    label: 'Home',
    recipientName: 'Ann Lee',
    line1: '1 Main St',
    city: 'Springfield',
    postalCode: '12345',
    country: 'us',
  };
  const work = { ...home, label: 'Work', line1: '9 Office Park', city: 'Shelbyville' };

  it('adds (first is default), updates, switches the default and removes', async () => {
    const session = await register(gql);
    const headers = auth(session.accessToken);
    const first = (await gql<{ addAddress: { id: string } }>(ADD, { input: home }, headers)).body.data!.addAddress;
    expect(first).toMatchObject({ city: 'Springfield', country: 'US', isDefault: true });
    const second = (await gql<{ addAddress: { id: string } }>(ADD, { input: work }, headers)).body.data!.addAddress;
    expect(second).toMatchObject({ isDefault: false });

    const updated = await gql(
      `mutation($id: ID!) { updateAddress(id: $id, input: { line2: "Suite 5", label: null }) { line1 line2 label } }`,
      { id: second.id },
      headers,
    );
    expect(updated.body.data).toEqual({ updateAddress: { line1: '9 Office Park', line2: 'Suite 5', label: null } });

    const switched = await gql(
      `mutation($id: ID!) { setDefaultAddress(id: $id) { defaultAddress { id } addresses { id isDefault } } }`,
      { id: second.id },
      headers,
    );
    expect(switched.body.data).toEqual({
      setDefaultAddress: {
        defaultAddress: { id: second.id },
        addresses: [
          { id: second.id, isDefault: true },
          { id: first.id, isDefault: false },
        ],
      },
    });

    expect((await gql(`mutation($id: ID!) { removeAddress(id: $id) }`, { id: second.id }, headers)).body.data).toEqual({
      removeAddress: true,
    });
    const me = await gql(ME, {}, headers);
    expect(me.body.data?.me).toMatchObject({ addresses: [{ id: first.id, isDefault: true }], defaultAddress: { id: first.id } });
  });

  it('refuses invalid addresses and anonymous callers', async () => {
    const session = await register(gql);
    const bad = await gql(ADD, { input: { ...home, country: 'Germany' } }, auth(session.accessToken));
    expect(bad.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'country' });
    expect(errorCode(await gql(ADD, { input: home }))).toBe('UNAUTHENTICATED');
  });

  it('refuses a card number in the name, the profile or any address field, naming the field and storing nothing', async () => {
    const CARD = '4111 1111 1111 1111';
    const refused = (response: GraphQLResponse, field: string) => {
      expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(response.body.errors?.[0]?.message).toMatch(/card number/);
      expect(JSON.stringify(response.body)).not.toContain('4111');
    };
    refused(
      await gql(
        `mutation($email: String!, $name: String!) { register(email: $email, password: "${PASSWORD}", name: $name) { accessToken } }`,
        { email: uniqueEmail('card-name'), name: `Ann ${CARD}` },
      ),
      'name',
    );
    const session = await register(gql);
    const headers = auth(session.accessToken);
    refused(
      await gql(`mutation($name: String) { updateProfile(input: { name: $name }) { id } }`, { name: CARD }, headers),
      'name',
    );
    for (const field of ['label', 'recipientName', 'line1', 'line2', 'city', 'region', 'postalCode', 'phone'] as const) {
      refused(await gql(ADD, { input: { ...home, [field]: CARD.replaceAll(' ', '-') } }, headers), field);
    }
    // Ordinary digits pass: house numbers, postcodes, phone numbers.
    const kept = await gql<{ addAddress: { id: string } }>(
      ADD,
      { input: { ...home, line1: '1600 Amphitheatre Pkwy 94043', phone: '+1 (650) 253-0000' } },
      headers,
    );
    expect(kept.body.errors).toBeUndefined();
    refused(
      await gql(
        `mutation($id: ID!, $line2: String) { updateAddress(id: $id, input: { line2: $line2 }) { id } }`,
        { id: kept.body.data!.addAddress.id, line2: `Apt 4 ${CARD}` },
        headers,
      ),
      'line2',
    );
    const me = await gql(ME, {}, headers);
    expect(JSON.stringify(me.body)).not.toContain('4111');
    expect(await prisma.address.count({ where: { userId: session.user.id } })).toBe(1);
  });

  it("never lets one user change another user's address (reported as NOT_FOUND)", async () => {
    const owner = await register(gql);
    const other = await register(gql);
    const address = (await gql<{ addAddress: { id: string } }>(ADD, { input: home }, auth(owner.accessToken))).body.data!
      .addAddress;
    for (const mutation of [
      `mutation($id: ID!) { updateAddress(id: $id, input: { city: "Hacked" }) { id } }`,
      `mutation($id: ID!) { removeAddress(id: $id) }`,
      `mutation($id: ID!) { setDefaultAddress(id: $id) { id } }`,
    ]) {
      expect(errorCode(await gql(mutation, { id: address.id }, auth(other.accessToken)))).toBe('NOT_FOUND');
    }
    expect((await gql(ME, {}, auth(owner.accessToken))).body.data?.me).toMatchObject({
      addresses: [{ id: address.id, city: 'Springfield' }],
    });
  });
});

describe('privacy of user data (federation entity lookups)', () => {
  const ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id name email role addresses { id } defaultAddress { id } } } }`;
  let alice: Session;
  let bob: Session;

  beforeAll(async () => {
    alice = await register(gql, uniqueEmail('alice'), PASSWORD, 'Alice');
    bob = await register(gql, uniqueEmail('bob'), PASSWORD, 'Bob');
    await gql(
      `mutation { addAddress(input: { recipientName: "Alice", line1: "1 Secret Lane", city: "Hidden", postalCode: "00000", country: "DE" }) { id } }`,
      {},
      auth(alice.accessToken),
    );
  });

  const lookUp = (headers: Record<string, string> = {}, ids = [alice.user.id]) =>
    usersSubgraph<{ _entities: Record<string, unknown>[] }>(
      ENTITIES,
      { representations: ids.map((id) => ({ __typename: 'User', id })) },
      headers,
    );

  it("gives another customer Alice's name but null email, role and addresses, without an error", async () => {
    const response = await lookUp(auth(bob.accessToken));
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?._entities).toEqual([
      { id: alice.user.id, name: 'Alice', email: null, role: null, addresses: null, defaultAddress: null },
    ]);
    expect((await lookUp()).body.data?._entities[0]).toMatchObject({ email: null, addresses: null });
  });

  it('shows Alice her own data, and admins everyone’s', async () => {
    for (const headers of [auth(alice.accessToken), { authorization: bearer('a1111111-0000-4000-8000-000000000001', 'ADMIN') }]) {
      const [entity] = (await lookUp(headers)).body.data!._entities;
      expect(entity).toMatchObject({ email: alice.user.email, role: 'CUSTOMER', addresses: [{ id: expect.any(String) }] });
    }
  });

  it('resolves many references in one batch, in order, with null for unknown ids', async () => {
    const unknown = '99999999-0000-4000-8000-000000000000';
    const response = await lookUp(auth(bob.accessToken), [bob.user.id, unknown, alice.user.id, 'not-a-uuid']);
    expect(response.body.data?._entities.map((entity) => entity?.id ?? null)).toEqual([bob.user.id, null, alice.user.id, null]);
    expect(response.body.data?._entities[0]).toMatchObject({ email: bob.user.email });
  });

  it('marks every user response private for caches', async () => {
    const response = await fetch(stack.services.users!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...subgraphAccessHeaders('users'), ...auth(alice.accessToken) },
      body: JSON.stringify({ query: '{ me { id email } }' }),
    });
    // No max-age is ever given to user data: the cache-control plugin answers "no-store".
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('admin operations', () => {
  const adminId = 'a2222222-0000-4000-8000-000000000002';
  const admin = { authorization: bearer(adminId, 'ADMIN') };
  const USERS = `query($first: Int, $after: String, $filter: UserFilter) { users(first: $first, after: $after, filter: $filter) { totalCount edges { cursor node { id email role } } pageInfo { hasNextPage endCursor } } }`;
  const SET_ROLE = `mutation($userId: ID!, $role: Role!) { setUserRole(userId: $userId, role: $role) { id role } }`;

  it('refuses customers (FORBIDDEN) and anonymous callers (UNAUTHENTICATED)', async () => {
    const customer = await register(gql);
    expect(errorCode(await gql(USERS, {}, auth(customer.accessToken)))).toBe('FORBIDDEN');
    expect(errorCode(await gql(SET_ROLE, { userId: customer.user.id, role: 'ADMIN' }, auth(customer.accessToken)))).toBe(
      'FORBIDDEN',
    );
    expect(errorCode(await gql(USERS))).toBe('UNAUTHENTICATED');
    expect(errorCode(await gql(SET_ROLE, { userId: customer.user.id, role: 'ADMIN' }))).toBe('UNAUTHENTICATED');
  });

  it('lists users newest first with cursor pagination and filters', async () => {
    const tag = `page${Date.now().toString(36)}`;
    const created: Session[] = [];
    for (let i = 0; i < 3; i++) created.push(await register(gql, uniqueEmail(tag)));
    const page1 = await gql(USERS, { first: 2, filter: { search: tag.toUpperCase() } }, admin);
    expect(page1.body.data?.users).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    const page2 = await gql(
      USERS,
      { first: 2, after: page1.body.data!.users.pageInfo.endCursor, filter: { search: tag } },
      admin,
    );
    expect(page2.body.data?.users.pageInfo.hasNextPage).toBe(false);
    const ids = [...page1.body.data!.users.edges, ...page2.body.data!.users.edges].map(
      (edge: { node: { id: string } }) => edge.node.id,
    );
    expect(ids).toEqual(created.map((session) => session.user.id).reverse());
    expect(page1.body.data!.users.edges[0].node.email).toContain(tag);

    const admins = await gql(USERS, { filter: { role: 'ADMIN', search: tag } }, admin);
    expect(admins.body.data?.users.totalCount).toBe(0);
    expect(errorCode(await gql(USERS, { first: 101 }, admin))).toBe('BAD_USER_INPUT');
    expect(errorCode(await gql(USERS, { after: 'garbage' }, admin))).toBe('BAD_USER_INPUT');
  });

  it('changes roles; the new role reaches the user at their next refresh', async () => {
    const email = uniqueEmail('promote');
    const user = await register(gql, email);
    expect((await gql(SET_ROLE, { userId: user.user.id, role: 'ADMIN' }, admin)).body.data).toEqual({
      setUserRole: { id: user.user.id, role: 'ADMIN' },
    });
    const refreshed = await gql<{ refreshToken: Session }>(REFRESH, { refreshToken: user.refreshToken });
    expect(refreshed.body.data?.refreshToken.user.role).toBe('ADMIN');
    const asNewAdmin = await gql(USERS, { first: 1 }, auth(refreshed.body.data!.refreshToken.accessToken));
    expect(asNewAdmin.body.errors).toBeUndefined();
  });

  it('refuses an admin changing their own role, and unknown users', async () => {
    expect(errorCode(await gql(SET_ROLE, { userId: adminId, role: 'CUSTOMER' }, admin))).toBe('FORBIDDEN');
    expect(errorCode(await gql(SET_ROLE, { userId: '99999999-0000-4000-8000-000000000000', role: 'ADMIN' }, admin))).toBe(
      'NOT_FOUND',
    );
    expect(errorCode(await gql(SET_ROLE, { userId: 'nope', role: 'ADMIN' }, admin))).toBe('NOT_FOUND');
  });
});
