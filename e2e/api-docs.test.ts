/**
 * docs/api.md is the guide for storefront and mobile developers: every example in it must work. This
 * runs each ```graphql example=…``` block (with its ```json variables=…``` block, as the signed-in
 * customer for `as=customer`) and each ```json request=…``` raw body against the embedded stack, in
 * document order, and checks it answers without errors — or with exactly the code given by `expect=`.
 * Values written "<a.b>" are filled in from the latest earlier answer with a field at that path. It also
 * checks the error table lists every code a client can get.
 */
import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import { startTestStack, type TestStack } from '@commerce/testkit';

jest.setTimeout(60_000);

const ROOT = new URL('..', import.meta.url);
const DOC = readFileSync(new URL('docs/api.md', ROOT), 'utf8');

interface Block {
  language: string;
  attributes: Record<string, string>;
  body: string;
}

/** Fenced blocks with their info-string attributes (`key=value` words after the language). */
function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  for (const match of markdown.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```/gm)) {
    const attributes = Object.fromEntries(
      match[2]!
        .trim()
        .split(/\s+/)
        .filter((word) => word.includes('='))
        .map((word) => word.split('=', 2) as [string, string]),
    );
    found.push({ language: match[1]!, attributes, body: match[3]! });
  }
  return found;
}

const ALL = blocks(DOC);
const EXAMPLES = ALL.filter((block) => block.attributes.example || block.attributes.request);
const variablesFor = (name: string) => ALL.find((block) => block.language === 'json' && block.attributes.variables === name);

/** Every string leaf of every answer so far, by its path without list indexes (latest last). */
const seen: { path: string[]; value: string }[] = [];
function remember(value: unknown, path: string[] = []): void {
  if (typeof value === 'string') seen.push({ path, value });
  else if (Array.isArray(value)) for (const item of value) remember(item, path);
  else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) remember(item, [...path, key]);
}
function lookup(placeholder: string): string {
  const want = placeholder.split('.');
  for (let index = seen.length - 1; index >= 0; index--) {
    const { path, value } = seen[index]!;
    if (path.length >= want.length && want.every((key, at) => path[path.length - want.length + at] === key)) return value;
  }
  throw new Error(`docs/api.md: no earlier answer has a field at ${placeholder}`);
}
function fillIn(value: unknown): unknown {
  if (typeof value === 'string') {
    const placeholder = /^<([\w.]+)>$/.exec(value);
    return placeholder ? lookup(placeholder[1]!) : value;
  }
  if (Array.isArray(value)) return value.map(fillIn);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fillIn(item)]));
  return value;
}

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ seed: true });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

it('docs/api.md has examples to run', () => {
  expect(EXAMPLES.length).toBeGreaterThanOrEqual(20);
  for (const block of ALL.filter((candidate) => candidate.attributes.variables)) {
    expect(EXAMPLES.map((example) => example.attributes.example)).toContain(block.attributes.variables);
  }
});

it('runs every example in docs/api.md, in order, as written', async () => {
  const answers: Record<string, Answer> = {};
  const report: string[] = [];
  for (const block of EXAMPLES) {
    const name = block.attributes.example ?? block.attributes.request!;
    let body: string;
    if (block.attributes.example) {
      const variables = variablesFor(name);
      body = JSON.stringify({ query: block.body, variables: variables ? fillIn(JSON.parse(variables.body)) : {} });
    } else {
      body = JSON.stringify(fillIn(JSON.parse(block.body)));
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (block.attributes.as === 'customer') headers.authorization = `Bearer ${lookup('accessToken')}`;
    const response = await fetch(stack.gatewayUrl, { method: 'POST', headers, body });
    const answer = (await response.json()) as Answer;
    answers[name] = answer;
    const codes = (answer.errors ?? []).map((error) => error.extensions?.code);
    report.push(`${name}: HTTP ${response.status}${codes.length ? ` ${codes.join(',')}` : ''}`);
    const expected = block.attributes.expect;
    if (expected) {
      expect({ name, codes }).toEqual({ name, codes: [expected] });
    } else {
      expect({ name, errors: answer.errors }).toEqual({ name, errors: undefined });
      expect(answer.data).toBeTruthy();
    }
    remember(answer.data);
  }
  console.log(`docs/api.md: ${EXAMPLES.length} examples\n  ${report.join('\n  ')}`);

  // What the prose around some examples promises.
  const categoryPage = answers['category-page']!.data as {
    category: { products: { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean } } };
  };
  expect(categoryPage.category.products.nodes).toHaveLength(2);
  expect(categoryPage.category.products.pageInfo.hasNextPage).toBe(true);
  const secondPage = answers['category-page-2']!.data as { category: { products: { nodes: { id: string }[] } } };
  expect(secondPage.category.products.nodes.map((node) => node.id)).not.toContain(categoryPage.category.products.nodes[0]!.id);
  const checkout = answers.checkout!.data as { checkout: { id: string; status: string } };
  expect(checkout.checkout.status).toBe('PENDING');
  expect((answers['checkout-retry']!.data as { checkout: { id: string } }).checkout.id).toBe(checkout.checkout.id);
  expect((answers['apq-hash-again']!.data as { categories: unknown[] }).categories.length).toBeGreaterThan(0);
});

it("lists every error code a client can get in docs/api.md's error table", () => {
  const table = new Set([...DOC.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]));
  const platform = readFileSync(new URL('packages/platform/src/errors.ts', ROOT), 'utf8');
  // The shared ErrorCode union and the codes the shared formatter passes to clients.
  const union = /export type ErrorCode =([\s\S]*?);/.exec(platform)![1]!;
  const clientCodes = /const CLIENT_CODES = new Set<string>\(\[([\s\S]*?)\]\)/.exec(platform)![1]!;
  const codes = new Set([...`${union}${clientCodes}`.matchAll(/'([A-Z_]+)'/g)].map((match) => match[1]!));
  const gateway = readFileSync(new URL('gateway/src/errors.ts', ROOT), 'utf8');
  for (const match of /GATEWAY_CODES = new Set\(\[([^\]]*)\]/.exec(gateway)![1]!.matchAll(/'([A-Z_]+)'/g)) codes.add(match[1]!);
  codes.add('QUERY_TOO_COMPLEX');
  codes.add('PAYLOAD_TOO_LARGE');
  expect([...codes].filter((code) => !table.has(code)).sort()).toEqual([]);
  expect(codes.size).toBeGreaterThanOrEqual(18);
});
