import { buildSchema, getOperationAST, parse } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { listAwareEstimator } from '../../src/limits/query-limits.ts';
import { rootFieldNames, rootFieldUses } from '../../src/limits/rate-limit.ts';
import { jsonTextNestsDeeperThan, nestsDeeperThan } from '../../src/limits/variables-depth.ts';
import { operationLabeler } from '../../src/observability/metrics.ts';

describe('sensitive root fields', () => {
  it('finds root fields behind aliases, inline fragments and fragment spreads', () => {
    const document = parse(`
      mutation Buy { pay: checkout(paymentMethodId: "pm", idempotencyKey: "k") { id } ...More ... on Mutation { login(email: "a", password: "b") { accessToken } } }
      fragment More on Mutation { addToCart(productId: "p", quantity: 1) { id } }`);
    expect([...rootFieldNames(document, getOperationAST(document)!)].sort()).toEqual(['addToCart', 'checkout', 'login']);
  });
});

describe('uses of root fields', () => {
  const uses = (query: string, cap?: number) => {
    const document = parse(query);
    const counts: Record<string, number> = {};
    for (const { field, times } of rootFieldUses(document, getOperationAST(document)!, cap)) {
      counts[field.name.value] = (counts[field.name.value] ?? 0) + times;
    }
    return counts;
  };

  it('counts every alias, repetition, inline fragment and fragment spread', () => {
    expect(uses('mutation { a: register b: register register register ... on Mutation { login } }')).toEqual({
      register: 4,
      login: 1,
    });
    expect(uses('mutation { ...Two ...Two ...Two } fragment Two on Mutation { x: placeOrder y: placeOrder }')).toEqual({
      placeOrder: 6,
    });
  });

  it('stays cheap for fragments that spread fragments (counts multiply, capped), and ignores cycles', () => {
    const levels = Array.from({ length: 20 }, (_, i) => `fragment F${i} on Mutation { ...F${i + 1} ...F${i + 1} }`);
    const query = `mutation { ...F0 } ${levels.join(' ')} fragment F20 on Mutation { login }`;
    expect(uses(query, 11)).toEqual({ login: 11 });
    expect(uses('mutation { ...A } fragment A on Mutation { login ...B } fragment B on Mutation { ...A }')).toEqual({ login: 1 });
  });
});

describe('nesting depth of variables', () => {
  const nested = (depth: number) => `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;

  it('measures parsed values and JSON text alike, iteratively (100,000 levels do not overflow)', () => {
    expect(nestsDeeperThan(JSON.parse(nested(2)), 4)).toBe(false);
    expect(nestsDeeperThan(JSON.parse(nested(3)), 4)).toBe(true);
    expect(nestsDeeperThan(JSON.parse(nested(50_000)), 32)).toBe(true);
    expect(nestsDeeperThan('{{{{{', 1)).toBe(false);
    expect(jsonTextNestsDeeperThan(nested(2), 4)).toBe(false);
    expect(jsonTextNestsDeeperThan(nested(3), 4)).toBe(true);
    expect(jsonTextNestsDeeperThan(nested(50_000), 32)).toBe(true);
    // Brackets inside strings (escaped quotes included) are text, not nesting.
    expect(jsonTextNestsDeeperThan(`{"a":"[[[[[\\"[[[[["}`, 2)).toBe(false);
  });
});

describe('list-aware cost', () => {
  const schema = buildSchema(`
    type Query { products(first: Int = 20): ProductConnection!  tags: [String!]! }
    type ProductConnection { nodes: [Product!]!  totalCount: Int! }
    type Product { id: ID!  name: String!  related(first: Int): ProductConnection! }
  `);
  const cost = (query: string, variables: Record<string, unknown> = {}) =>
    getComplexity({ schema, query: parse(query), variables, estimators: [listAwareEstimator(10, 100)] });

  it('multiplies a page by its size, from literals, variables or the schema default', () => {
    expect(cost('{ products(first: 10) { nodes { id name } } }')).toBe(31);
    expect(cost('{ products(first: 100) { nodes { id name } } }')).toBe(301);
    expect(cost('query($n: Int) { products(first: $n) { nodes { id name } } }', { n: 50 })).toBe(151);
    expect(cost('{ products { nodes { id } } }')).toBe(1 + 20 * 2);
  });

  it('multiplies nested pages, caps a page at the maximum page size, and counts plain lists by the default size', () => {
    expect(cost('{ products(first: 10) { nodes { related(first: 10) { nodes { id } } } } }')).toBe(1 + 10 * (1 + 1 + 10 * 2));
    expect(cost('{ products(first: 5000) { nodes { id } } }')).toBe(cost('{ products(first: 100) { nodes { id } } }'));
    expect(cost('{ tags }')).toBe(1);
  });

  it('does not charge introspection', () => {
    expect(cost('{ __schema { types { name fields { name } } } }')).toBe(0);
  });
});

describe('operation labels on metrics', () => {
  it('keeps names that look like names, bounded in number, and folds the rest into `other`', () => {
    const label = operationLabeler();
    expect(label('ProductPage')).toBe('ProductPage');
    expect(label(undefined)).toBe('anonymous');
    expect(label('drop table; --')).toBe('other');
    for (let i = 0; i < 600; i++) label(`Op${i}`);
    expect(label('Op10')).toBe('Op10');
    expect(label('Op599')).toBe('other');
  });
});
