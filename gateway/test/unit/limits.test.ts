import { buildSchema, getOperationAST, parse } from 'graphql';
import { getComplexity } from 'graphql-query-complexity';
import { listAwareEstimator } from '../../src/limits/query-limits.ts';
import { rootFieldNames } from '../../src/limits/rate-limit.ts';
import { operationLabeler } from '../../src/observability/metrics.ts';

describe('sensitive root fields', () => {
  it('finds root fields behind aliases, inline fragments and fragment spreads', () => {
    const document = parse(`
      mutation Buy { pay: checkout(paymentMethodId: "pm", idempotencyKey: "k") { id } ...More ... on Mutation { login(email: "a", password: "b") { accessToken } } }
      fragment More on Mutation { addToCart(productId: "p", quantity: 1) { id } }`);
    expect([...rootFieldNames(document, getOperationAST(document)!)].sort()).toEqual(['addToCart', 'checkout', 'login']);
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
