/**
 * Limits a hostile client must not get around (issue 19, items 7, 8, 10, 11): sensitive fields count per
 * use, auth fields count per address (IPv6 per /64) whatever token comes along, APQ registrations cannot
 * evict cached answers, deeply nested variables are refused. Embedded stack; client addresses are
 * simulated with X-Forwarded-For, which the gateway trusts from loopback (its default).
 */
import { randomUUID } from 'node:crypto';
import { bearer, startTestStack, type TestStack } from '@commerce/testkit';
import { catalogMoves, gql, metricsOf, metricValue, post, sha256, startExtraGateway } from './support.ts';

const ADMIN = bearer(randomUUID(), 'ADMIN');

let stack: TestStack;
const extras: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  stack = await startTestStack();
}, 180_000);

afterAll(async () => {
  for (const gateway of extras) await gateway.stop();
  await stack?.stop();
}, 60_000);

async function extraGateway(env: Record<string, string>) {
  const gateway = await startExtraGateway(stack, env);
  extras.push(gateway);
  return gateway;
}

/** A client at its own address (the gateway trusts X-Forwarded-For from loopback). */
let addresses = 0;
const newAddress = () => ({ 'x-forwarded-for': `203.0.113.${++addresses}` });

const email = () => `limits-${randomUUID().slice(0, 8)}@example.com`;
const PASSWORD = 'a long enough passphrase 42';
const register = (alias: string, address: string) =>
  `${alias}: register(email: "${address}", password: "${PASSWORD}", name: "Limit Test") { user { id } }`;

const codeOf = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => body.errors?.[0]?.extensions?.code;

describe('sensitive fields count every use (item 7)', () => {
  it('three aliased registers spend three points: a fourth register is refused, and only three accounts exist', async () => {
    const limited = await extraGateway({ GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '3' });
    const client = newAddress();
    const emails = [email(), email(), email(), email()];
    const three = await gql(
      limited.graphqlUrl,
      `mutation { ${register('a', emails[0]!)} ${register('b', emails[1]!)} ${register('c', emails[2]!)} }`,
      {},
      client,
    );
    expect(three.body.errors).toBeUndefined();
    const fourth = await gql(limited.graphqlUrl, `mutation { ${register('d', emails[3]!)} }`, {}, client);
    expect(fourth.status).toBe(429);
    expect(fourth.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', policy: 'register' });
    // The refused account was never created: logging in to it fails as a wrong login, not a throttle.
    const login = await gql(
      stack.gatewayUrl,
      `mutation { login(email: "${emails[3]}", password: "${PASSWORD}") { accessToken } }`,
      {},
      newAddress(),
    );
    expect(codeOf(login.body)).toBe('UNAUTHENTICATED');
  });

  it('refuses a request whose uses exceed the budget as a whole: nothing of it runs', async () => {
    const limited = await extraGateway({ GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '3' });
    const client = newAddress();
    const emails = [email(), email(), email(), email()];
    const four = await gql(
      limited.graphqlUrl,
      `mutation { ${emails.map((address, index) => register(`r${index}`, address)).join(' ')} }`,
      {},
      client,
    );
    expect(four.status).toBe(429);
    expect(codeOf(four.body)).toBe('RATE_LIMITED');
    expect(four.body.data ?? null).toBeNull();
    for (const address of emails) {
      const login = await gql(
        stack.gatewayUrl,
        `mutation { login(email: "${address}", password: "${PASSWORD}") { accessToken } }`,
        {},
        newAddress(),
      );
      expect(codeOf(login.body)).toBe('UNAUTHENTICATED');
    }
  });

  it('counts placeOrder (aliases and fragment spreads) and the other fields that place or pay', async () => {
    const limited = await extraGateway({ GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '3' });
    const customer = { authorization: bearer(randomUUID()) };
    const placeOrder = (alias: string) =>
      `${alias}: placeOrder(lines: [{ productId: "${randomUUID()}", quantity: 1 }], paymentMethodId: "${randomUUID()}", shippingAddressId: "${randomUUID()}", idempotencyKey: "${randomUUID()}") { id }`;
    // Two spreads of a fragment holding two placeOrders: four orders in one request.
    const spread = await gql(
      limited.graphqlUrl,
      `mutation { ...Two ...Two } fragment Two on Mutation { ${placeOrder('a')} ${placeOrder('b')} }`,
      {},
      customer,
    );
    expect(spread.status).toBe(429);
    expect(spread.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', policy: 'placeOrder' });

    for (const field of ['checkout', 'addPaymentMethod', 'refundPayment']) {
      const mutation: Record<string, string> = {
        checkout: `checkout(paymentMethodId: "${randomUUID()}", shippingAddressId: "${randomUUID()}", idempotencyKey: "k") { id }`,
        addPaymentMethod: `addPaymentMethod(token: "tok_visa") { id }`,
        refundPayment: `refundPayment(paymentId: "${randomUUID()}", amountCents: 1, reason: "r", idempotencyKey: "k") { id }`,
      };
      const caller = { authorization: bearer(randomUUID(), 'ADMIN') };
      const aliased = [1, 2, 3, 4].map((n) => `x${n}: ${mutation[field]}`).join(' ');
      const answer = await gql(limited.graphqlUrl, `mutation { ${aliased} }`, {}, caller);
      expect({ field, code: codeOf(answer.body) }).toEqual({ field, code: 'RATE_LIMITED' });
    }
  });
});

describe('auth fields count per client address, whatever token is sent (item 8)', () => {
  const badLogin = (address: string) => `mutation { login(email: "${address}", password: "not the password") { accessToken } }`;

  it('a fresh throwaway token per guess does not buy a fresh login budget', async () => {
    const limited = await extraGateway({ GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '2' });
    const client = newAddress();
    for (let i = 0; i < 2; i++) {
      const guess = await gql(limited.graphqlUrl, badLogin(email()), {}, { ...client, authorization: bearer(randomUUID()) });
      expect(codeOf(guess.body)).not.toBe('RATE_LIMITED');
    }
    const third = await gql(limited.graphqlUrl, badLogin(email()), {}, { ...client, authorization: bearer(randomUUID()) });
    expect(third.status).toBe(429);
    expect(third.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', policy: 'login' });
    // Another address still has its own budget.
    expect(codeOf((await gql(limited.graphqlUrl, badLogin(email()), {}, newAddress())).body)).not.toBe('RATE_LIMITED');
  });

  it('strangers naming an account cannot lock its owner out of login or registration (review finding 1)', async () => {
    const limited = await extraGateway({ GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '2' });
    const victim = email();
    // A stranger tries to register the victim's email first, from several addresses (a too-short password:
    // refused by the users service, after the gateway counted it).
    for (let i = 0; i < 3; i++) {
      const squat = await gql(
        limited.graphqlUrl,
        `mutation($e: String = "${victim}") { register(email: $e, password: "short", name: "Squatter") { user { id } } }`,
        {},
        newAddress(),
      );
      expect(codeOf(squat.body)).toBe('BAD_USER_INPUT');
    }
    const registered = await gql(limited.graphqlUrl, `mutation { ${register('r', victim)} }`, {}, newAddress());
    expect(registered.body.errors).toBeUndefined();
    // Wrong passwords for the victim from more addresses than the per-field budget.
    for (let i = 0; i < 3; i++) {
      const guess = await gql(
        limited.graphqlUrl,
        'mutation($e: String!) { login(email: $e, password: "nope nope") { accessToken } }',
        { e: ` ${victim.toUpperCase()}` },
        newAddress(),
      );
      expect(codeOf(guess.body)).toBe('UNAUTHENTICATED');
    }
    // The owner, from an address of their own, still logs in (the users service paces per account).
    const owner = await gql(
      limited.graphqlUrl,
      `mutation { login(email: "${victim}", password: "${PASSWORD}") { accessToken } }`,
      {},
      newAddress(),
    );
    expect(owner.status).toBe(200);
    expect(owner.body.errors).toBeUndefined();
  });

  it('counts an IPv6 client by its /64 and an IPv4-mapped address as its IPv4 address (review finding 5)', async () => {
    const limited = await extraGateway({ GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '2' });
    const network = `2001:db8:${(++addresses).toString(16)}:7`;
    for (const host of ['::1', '::2']) {
      const guess = await gql(limited.graphqlUrl, badLogin(email()), {}, { 'x-forwarded-for': `${network}${host}` });
      expect(codeOf(guess.body)).not.toBe('RATE_LIMITED');
    }
    const third = await gql(limited.graphqlUrl, badLogin(email()), {}, { 'x-forwarded-for': `${network}:ffff:1:2:3` });
    expect(codeOf(third.body)).toBe('RATE_LIMITED');
    // The next /64 is another client.
    const next = `2001:db8:${(++addresses).toString(16)}:8::1`;
    expect(codeOf((await gql(limited.graphqlUrl, badLogin(email()), {}, { 'x-forwarded-for': next })).body)).not.toBe(
      'RATE_LIMITED',
    );
    const v4 = `198.51.100.${++addresses % 250}`;
    for (let i = 0; i < 2; i++) await gql(limited.graphqlUrl, badLogin(email()), {}, { 'x-forwarded-for': v4 });
    const mapped = await gql(limited.graphqlUrl, badLogin(email()), {}, { 'x-forwarded-for': `::ffff:${v4}` });
    expect(codeOf(mapped.body)).toBe('RATE_LIMITED');
  });
});

describe('persisted-query registrations cannot evict cached answers (item 10)', () => {
  /** A valid query of about 90 KB (a long comment), different per call: each registers a new hash. */
  const bigQuery = () => `# ${randomUUID()} ${'x'.repeat(90_000)}\n{ products(first: 1) { totalCount } }`;
  const registerQuery = (url: string, query: string, headers: Record<string, string>) =>
    post(url, { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } }, headers);

  it('a flood of registrations from many addresses leaves the response cache and earlier hashes alone', async () => {
    const gateway = await extraGateway({
      // A 1 MB response cache: the flood below registers twice that.
      GATEWAY_CACHE_MEMORY_MAX_BYTES: String(1024 * 1024),
      GATEWAY_CACHE_HIT_PATH: 'false',
    });
    // This gateway has no event subscriber: nothing purges its cache but the flood could.
    const moves = catalogMoves(stack, ADMIN);
    const product = await moves.createProduct(1234);
    expect(await moves.priceOf(product.id, gateway.graphqlUrl)).toBe(1234);
    // Behind the cache's back: only a cache miss would show the new price.
    await moves.setPriceWithoutEvent(product.id, 4321);

    const early = `query EarlyApq { categories { id } }`;
    expect((await registerQuery(gateway.graphqlUrl, early, newAddress())).body.errors).toBeUndefined();

    for (let i = 0; i < 24; i++) {
      const answer = await registerQuery(gateway.graphqlUrl, bigQuery(), newAddress());
      expect(answer.status).toBe(200);
    }
    expect(await moves.priceOf(product.id, gateway.graphqlUrl)).toBe(1234);
    const byHash = await post(gateway.graphqlUrl, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(early) } } });
    expect(byHash.body.errors).toBeUndefined();
  }, 60_000);

  it('limits registrations per client address (RATE_LIMITED, 429), while hash-only requests go on', async () => {
    const gateway = await extraGateway({ GATEWAY_APQ_REGISTRATIONS: '3' });
    const client = newAddress();
    const registered: string[] = [];
    for (let i = 0; i < 3; i++) {
      const query = `query Registered${i} { products(first: ${i + 1}) { totalCount } }`;
      expect((await registerQuery(gateway.graphqlUrl, query, client)).status).toBe(200);
      registered.push(query);
    }
    const refused = await registerQuery(gateway.graphqlUrl, bigQuery(), client);
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', policy: 'apqRegistration' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The GET form counts as well.
    const url = new URL(gateway.graphqlUrl);
    url.searchParams.set('query', '{ categories { id } }');
    url.searchParams.set(
      'extensions',
      JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha256('{ categories { id } }') } }),
    );
    const viaGet = await fetch(url, { headers: { 'apollo-require-preflight': 'true', ...client } });
    expect(viaGet.status).toBe(429);
    // Using what is registered, and plain queries, are not registrations.
    const byHash = await post(
      gateway.graphqlUrl,
      { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(registered[0]!) } } },
      client,
    );
    expect(byHash.body.errors).toBeUndefined();
    expect((await gql(gateway.graphqlUrl, '{ products(first: 1) { totalCount } }', {}, client)).status).toBe(200);
    expect(metricValue(await metricsOf(gateway), 'gateway_rate_limited_total', { policy: 'apqRegistration' })).toBe(2);
  });

  it('counts GET registrations behind 1,000 padding parameters too (review finding 4)', async () => {
    const gateway = await extraGateway({ GATEWAY_APQ_REGISTRATIONS: '2' });
    const client = newAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const query = `{ categories { id } r${i}: categories { id } }`;
      const extensions = JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha256(query) } });
      const url = `${gateway.graphqlUrl}?${'a&'.repeat(1000)}query=${encodeURIComponent(query)}&extensions=${encodeURIComponent(extensions)}`;
      statuses.push((await fetch(url, { headers: { 'apollo-require-preflight': 'true', ...client } })).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe('deeply nested variables (item 11)', () => {
  const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const QUERY = '{ products(first: 1) { totalCount } }';

  it('answers 400 BAD_USER_INPUT, not 500, to variables nested 10,000 deep (POST, batches, extensions)', async () => {
    for (const body of [
      `{"query":${JSON.stringify(QUERY)},"variables":${nested(10_000)}}`,
      `{"query":${JSON.stringify(QUERY)},"extensions":${nested(10_000)}}`,
      `[{"query":${JSON.stringify(QUERY)}},{"query":${JSON.stringify(QUERY)},"variables":${nested(10_000)}}]`,
    ]) {
      const answer = await post(stack.gatewayUrl, body);
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'variablesDepth' });
    }
  });

  it('refuses them on GET and in front of a cached answer too', async () => {
    // The URL must fit Node's header limit: 2,000 levels of arrays.
    const url = new URL(stack.gatewayUrl);
    url.searchParams.set('query', QUERY);
    url.searchParams.set('variables', `{"a":${'['.repeat(2000)}${']'.repeat(2000)}}`);
    const viaGet = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(viaGet.status).toBe(400);
    expect(((await viaGet.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe(
      'BAD_USER_INPUT',
    );
    // The same query is answered (and cached) without the deep variables, and still refused with them.
    const plain = new URL(stack.gatewayUrl);
    plain.searchParams.set('query', QUERY);
    for (let i = 0; i < 2; i++)
      expect((await fetch(plain, { headers: { 'apollo-require-preflight': 'true' } })).status).toBe(200);
    expect((await fetch(url, { headers: { 'apollo-require-preflight': 'true' } })).status).toBe(400);
    expect((await post(stack.gatewayUrl, `{"query":${JSON.stringify(QUERY)},"variables":${nested(10_000)}}`)).status).toBe(400);
  });

  it('refuses them on GET behind 1,000 padding parameters (review finding 4)', async () => {
    // Brackets as they are (a URL's query keeps them), so 3,000 levels fit Node's header limit.
    const deep = `{"x":${'['.repeat(3000)}${']'.repeat(3000)}}`;
    for (const padding of ['a&'.repeat(1000), 'a=1&'.repeat(1500)]) {
      const answer = await fetch(`${stack.gatewayUrl}?${padding}query=${encodeURIComponent(QUERY)}&variables=${deep}`, {
        headers: { 'apollo-require-preflight': 'true', ...newAddress() },
      });
      expect(answer.status).toBe(400);
      expect(((await answer.json()) as { errors: { extensions: { limit?: string } }[] }).errors[0]!.extensions.limit).toBe(
        'variablesDepth',
      );
    }
  });

  it('still accepts ordinary nesting (ten levels of variables the query does not use)', async () => {
    const answer = await gql(stack.gatewayUrl, QUERY, JSON.parse(nested(10)) as Record<string, unknown>);
    expect(answer.body).toEqual({ data: expect.anything() });
    expect(answer.status).toBe(200);
    expect(answer.body.errors).toBeUndefined();
  });
});
