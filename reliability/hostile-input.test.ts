/**
 * Hostile input against the whole embedded graph: requests generated from the real supergraph
 * (deep, wide, aliased, cyclic, huge, mistyped, malformed, mis-encoded, batched, injection-shaped).
 * Every answer must be a well-formed GraphQL response with a stable `extensions.code`, never a 5xx
 * or a leak of internals; the gateway and subgraphs must still answer /health afterwards and the
 * heap must not grow past a bound.
 *
 * `npm test` runs a bounded sample (RELIABILITY_HOSTILE_REQUESTS, default 1,200);
 * `npm run test:reliability` runs thousands. RELIABILITY_SEED replays a run.
 */
import { startTestStack, type TestStack } from '@commerce/testkit';
import { adminToken, loadSupergraph, registerCustomer } from './support/graph.ts';
import { UNRESOLVABLE_OPERATIONS, hostileGenerator, type HostileRequest } from './support/hostile.ts';

const TOTAL = Number(process.env.RELIABILITY_HOSTILE_REQUESTS ?? 1_200);
const SEED = Number(process.env.RELIABILITY_SEED ?? 20_261_123);
const CONCURRENCY = 16;
const MB = 1024 * 1024;
// With --expose-gc the heap is measured after collection; without it, only a generous bound means anything.
const gc = (globalThis as { gc?: () => void }).gc;
const HEAP_GROWTH_BOUND = gc ? 96 * MB : 384 * MB;

/** What must never reach a client: stack frames, source paths, SQL engine errors, ORM internals. */
const INTERNALS: [string, RegExp][] = [
  ['stack frame', /\bat [\w.<>]+ \(?[^)\s]*:\d+:\d+\)?/],
  ['source path', /\/work\/|node_modules|\.ts:\d+/],
  [
    'postgres error',
    /syntax error at or near|relation "[^"]+" does not exist|duplicate key value violates|violates (foreign key|not-null|check) constraint/i,
  ],
  ['orm internals', /PrismaClient|prisma\.|Invalid `prisma/],
  ['connection detail', /ECONNREFUSED|ECONNRESET|127\.0\.0\.1:\d{4,5}/],
];

interface Outcome {
  status: number;
  codes: string[];
  violation?: string;
}

function inspect(status: number, text: string): Outcome {
  if (status >= 500) return { status, codes: [], violation: `HTTP ${status}` };
  for (const [name, pattern] of INTERNALS) {
    if (pattern.test(text)) return { status, codes: [], violation: `leaks ${name}: ${text.match(pattern)?.[0]}` };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { status, codes: [], violation: `not JSON: ${text.slice(0, 120)}` };
  }
  const bodies = Array.isArray(body) ? body : [body];
  const codes: string[] = [];
  for (const each of bodies) {
    if (typeof each !== 'object' || each === null || !('data' in each || 'errors' in each)) {
      return { status, codes, violation: `neither data nor errors: ${text.slice(0, 120)}` };
    }
    const errors = (each as { errors?: unknown }).errors;
    if (errors === undefined) continue;
    if (!Array.isArray(errors) || errors.length === 0) return { status, codes, violation: 'errors is not a non-empty list' };
    for (const error of errors as { message?: unknown; extensions?: { code?: unknown } }[]) {
      if (typeof error.message !== 'string') return { status, codes, violation: 'error without a message' };
      if (typeof error.extensions?.code !== 'string')
        return { status, codes, violation: `error without extensions.code: ${error.message}` };
      codes.push(error.extensions.code);
      // A field that failed inside a service is a crash even when the rest of the answer is fine.
      if (error.extensions.code === 'INTERNAL_SERVER_ERROR') {
        return {
          status,
          codes,
          violation: `INTERNAL_SERVER_ERROR at ${JSON.stringify((error as { path?: unknown }).path)}: ${error.message}`,
        };
      }
    }
  }
  // A body over the limit says so with its own code (a client must send less, not simplify the query).
  if (status === 413 && codes.some((code) => code !== 'PAYLOAD_TOO_LARGE')) {
    return { status, codes, violation: `413 with ${codes.join(', ')}, not PAYLOAD_TOO_LARGE` };
  }
  return { status, codes };
}

/**
 * Confirmed bugs in subgraphs (reported to the lead, not ours to fix); each has its own it.failing
 * below. Hits in the generated run are counted and printed, not failed, so the run stays a gate for
 * everything else.
 */
const NUL_BYTE =
  'a NUL byte in a string argument reaches PostgreSQL and answers INTERNAL_SERVER_ERROR (users login, catalog category)';
const PROTOTYPE_TOKEN =
  'addPaymentMethod with token "__proto__" or "constructor" answers INTERNAL_SERVER_ERROR (billing fake provider)';
const KNOWN_FIELD_BUGS: { name: string; matches(request: HostileRequest, outcome: Outcome): boolean }[] = [
  {
    name: NUL_BYTE,
    matches: (request, outcome) =>
      /^INTERNAL_SERVER_ERROR at \["(login|category)"\]/.test(outcome.violation ?? '') &&
      !!request.body?.toString().includes('\\u0000'),
  },
  {
    name: PROTOTYPE_TOKEN,
    matches: (request, outcome) =>
      !!outcome.violation?.startsWith('INTERNAL_SERVER_ERROR at ["addPaymentMethod"]') &&
      /"token":"(__proto__|constructor)"/.test(request.body?.toString() ?? ''),
  },
];

let stack: TestStack;
let customerToken: string;

beforeAll(async () => {
  stack = await startTestStack({
    seed: true,
    // The limits under test are the query limits; the rate limiter would otherwise answer most requests.
    env: { GATEWAY_RATE_LIMIT_POINTS: '1000000', GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: '1000000' },
  });
  customerToken = (await registerCustomer(stack, 'hostile')).token;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function send(request: HostileRequest): Promise<Outcome> {
  const headers: Record<string, string> = {};
  if (request.contentType) headers['content-type'] = request.contentType;
  if (request.as === 'customer') headers.authorization = customerToken;
  if (request.as === 'admin') headers.authorization = adminToken();
  // Half the GETs carry the header that gets past CSRF prevention, to reach the mutation-over-GET refusal.
  if (request.method === 'GET' && request.search && request.search.length % 2 === 0) headers['apollo-require-preflight'] = 'true';
  const url = request.method === 'GET' ? `${stack.gatewayUrl}?${request.search}` : stack.gatewayUrl;
  const response = await fetch(url, {
    method: request.method,
    headers,
    body: request.method === 'POST' ? request.body : undefined,
  });
  return inspect(response.status, await response.text());
}

/** `/health` is on each service's management port (the graph port answers 404 there). */
const healthOf = async (management: { url: string }) => (await fetch(`${management.url}/health`)).status;

it(`answers ${TOTAL} hostile requests with well-formed GraphQL, no internals, and stays up within a heap bound`, async () => {
  const requests = hostileGenerator(loadSupergraph(), SEED).generate(TOTAL);
  gc?.();
  const before = process.memoryUsage();

  const counts: Record<string, { requests: number; statuses: Record<number, number>; codes: Record<string, number> }> = {};
  const violations: string[] = [];
  // Hits of bugs already confirmed and reported; asserted by their own it.failing below, counted here.
  const knownBugHits: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < requests.length; index = next++) {
      const request = requests[index]!;
      const outcome = await send(request);
      const count = (counts[request.category] ??= { requests: 0, statuses: {}, codes: {} });
      count.requests++;
      count.statuses[outcome.status] = (count.statuses[outcome.status] ?? 0) + 1;
      for (const code of new Set(outcome.codes)) count.codes[code] = (count.codes[code] ?? 0) + 1;
      if (!outcome.violation) continue;
      const line = `#${index} ${request.category} (${request.as}): ${outcome.violation}`;
      const knownBug = KNOWN_FIELD_BUGS.find((bug) => bug.matches(request, outcome))?.name;
      if (knownBug) knownBugHits.push(`${line} [known bug: ${knownBug}]`);
      else if (process.env.RELIABILITY_SHOW_REQUEST)
        violations.push(`${line}\n    ${request.body?.toString('utf8').slice(0, 600)}`);
      else violations.push(line);
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsedMs = Date.now() - started;

  gc?.();
  const after = process.memoryUsage();
  const heapGrowth = after.heapUsed - before.heapUsed;
  const health = {
    gateway: await healthOf(stack.gateway.management),
    ...Object.fromEntries(
      await Promise.all(
        Object.entries(stack.services).map(async ([name, service]) => [name, await healthOf(service.management)]),
      ),
    ),
  };
  const stillServes = await stack.query<{ products: { totalCount: number } }>('{ products(first: 1) { totalCount } }');

  console.log(
    [
      `hostile input: ${requests.length} requests, seed ${SEED}, ${elapsedMs} ms, ${violations.length} violations, ${knownBugHits.length} known-bug hits, gc ${gc ? 'on' : 'off'}`,
      `heapUsed ${(before.heapUsed / MB).toFixed(1)} MB -> ${(after.heapUsed / MB).toFixed(1)} MB (growth ${(heapGrowth / MB).toFixed(1)} MB, bound ${HEAP_GROWTH_BOUND / MB} MB); rss ${(before.rss / MB).toFixed(0)} -> ${(after.rss / MB).toFixed(0)} MB`,
      `health after: ${JSON.stringify(health)}`,
      ...Object.entries(counts).map(
        ([category, count]) =>
          `  ${category.padEnd(17)} ${String(count.requests).padStart(5)}  status ${JSON.stringify(count.statuses)}  codes ${JSON.stringify(count.codes)}`,
      ),
      ...violations.slice(0, 25),
      ...knownBugHits.slice(0, 5),
    ].join('\n'),
  );

  expect(violations).toEqual([]);
  expect(Object.values(health).every((status) => status === 200)).toBe(true);
  expect(stillServes.body.data?.products.totalCount).toBeGreaterThan(0);
  expect(heapGrowth).toBeLessThan(HEAP_GROWTH_BOUND);
}, 600_000);

it('answers a document whose operation cannot be chosen with 400, not 500', async () => {
  const outcomes = [];
  for (const payload of UNRESOLVABLE_OPERATIONS) {
    const response = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    outcomes.push(inspect(response.status, await response.text()));
  }
  expect(outcomes.map((outcome) => outcome.violation)).toEqual(UNRESOLVABLE_OPERATIONS.map(() => undefined));
  for (const outcome of outcomes) {
    expect(outcome.status).toBe(400);
    expect(outcome.codes).not.toContain('INTERNAL_SERVER_ERROR');
  }
});

it('answers variables or extensions nested 10,000 deep with 400 BAD_USER_INPUT, not a 500 stack overflow', async () => {
  const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
  const query = JSON.stringify('{ products(first: 1) { totalCount } }');
  const outcomes = [];
  for (const body of [`{"query":${query},"variables":${deep}}`, `{"query":${query},"extensions":${deep}}`]) {
    const response = await fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    outcomes.push(inspect(response.status, await response.text()));
  }
  expect(outcomes).toEqual([
    { status: 400, codes: ['BAD_USER_INPUT'] },
    { status: 400, codes: ['BAD_USER_INPUT'] },
  ]);
});

async function fieldErrors(query: string, variables: Record<string, unknown>, token: string) {
  const response = await stack.query(query, variables, { authorization: token });
  return inspect(response.status, JSON.stringify(response.body)).violation;
}

// Was a bug (catalog and users): PostgreSQL refuses text containing U+0000 and the error surfaced as
// INTERNAL_SERVER_ERROR. Fixed by refusing NUL characters at the edge (BAD_USER_INPUT); kept as a regression test.
it(`regression: ${NUL_BYTE}`, async () => {
  const nul = 'nul\u0000byte';
  const violations = [
    await fieldErrors('query ($slug: String!) { category(slug: $slug) { id } }', { slug: nul }, customerToken),
    await fieldErrors(
      'mutation ($email: String!) { login(email: $email, password: "whatever passphrase") { tokenType } }',
      { email: nul },
      customerToken,
    ),
  ];
  expect(violations).toEqual([undefined, undefined]);
});

// Was a bug (billing): the fake provider's token lookup fell through to Object.prototype, so these
// tokens crashed instead of being refused. Fixed with an own-key lookup; kept as a regression test.
it(`regression: ${PROTOTYPE_TOKEN}`, async () => {
  const violations = [];
  for (const token of ['__proto__', 'constructor']) {
    violations.push(
      await fieldErrors('mutation ($token: String!) { addPaymentMethod(token: $token) { id } }', { token }, customerToken),
    );
  }
  expect(violations).toEqual([undefined, undefined]);
});

// Issue 20: the category page's arguments (category(id:), Category.products, a nested connection the
// generated run does not reach) and every uuid ID argument answer BAD_USER_INPUT for an id that is not
// one — never a silent null, a crash, or SQL.
it('answers hostile ids and category-page arguments with BAD_USER_INPUT, never a null or an internal error', async () => {
  const ids = ['not-a-uuid', "' OR 1=1 --", '00000000-0000-0000-0000-00000000000g', 'x'.repeat(10_000), '😀', ''];
  const PAGE = `query ($first: Int, $after: String, $filter: ProductFilter) {
    category(slug: "home") { products(first: $first, after: $after, filter: $filter) { totalCount nodes { id } } }
  }`;
  const cases: [string, string, Record<string, unknown>][] = [];
  for (const id of ids) {
    cases.push(['id', 'query ($id: ID) { product(id: $id) { id } }', { id }]);
    cases.push(['id', 'query ($id: ID) { category(id: $id) { id products(first: 1) { totalCount } } }', { id }]);
    cases.push(['filter.categoryId', PAGE, { first: 1, filter: { categoryId: id } }]);
    // An empty `after` means "from the start", as on `products`.
    if (id !== '') cases.push(['after', PAGE, { first: 1, after: id }]);
  }
  for (const first of [-1, 0, 101, 2 ** 31 - 1]) cases.push(['first', PAGE, { first }]);
  const wrong: string[] = [];
  for (const [field, query, variables] of cases) {
    const response = await stack.query(query, variables, { authorization: customerToken });
    const outcome = inspect(response.status, JSON.stringify(response.body));
    const extensions = response.body.errors?.[0]?.extensions;
    if (outcome.violation || extensions?.code !== 'BAD_USER_INPUT' || extensions.field !== field) {
      wrong.push(`${JSON.stringify(variables).slice(0, 80)}: ${outcome.violation ?? JSON.stringify(extensions)}`);
    }
  }
  console.log(`hostile ids and category-page arguments: ${cases.length} requests, ${wrong.length} wrong`);
  expect(wrong).toEqual([]);
});
