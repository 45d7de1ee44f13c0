import { buildSchema, parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { rememberCosts } from '../../src/limits/cost-memo.ts';

const schema = buildSchema('type Query { products(first: Int): [String!]! }');
const QUERY = 'query Page($first: Int) { products(first: $first) }';

/** A cost function that counts its calls; its answer depends on the variables like the real one does. */
function countingCost() {
  const calls: { document: DocumentNode; variables: Record<string, unknown> }[] = [];
  const cost = (_schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>) => {
    calls.push({ document, variables });
    if (typeof variables.first !== 'number') throw new Error('Variable "$first" got invalid value');
    return 1 + variables.first;
  };
  return { calls, cost };
}

describe('remembered operation costs', () => {
  it('computes a document and variables once, however often they come', () => {
    const { calls, cost } = countingCost();
    const costOf = rememberCosts(cost);
    const document = parse(QUERY);
    expect([1, 2, 3].map(() => costOf(schema, document, { first: 50 }, 'Page'))).toEqual([51, 51, 51]);
    expect(calls).toHaveLength(1);
  });

  it('keeps different variables, operation names and documents apart', () => {
    const { calls, cost } = countingCost();
    const costOf = rememberCosts(cost);
    const document = parse(QUERY);
    expect(costOf(schema, document, { first: 10 }, 'Page')).toBe(11);
    expect(costOf(schema, document, { first: 100 }, 'Page')).toBe(101);
    expect(costOf(schema, document, { first: 10 }, undefined)).toBe(11);
    expect(costOf(schema, parse(QUERY), { first: 10 }, 'Page')).toBe(11);
    expect(costOf(schema, document, { first: 10 }, 'Page')).toBe(11);
    expect(calls).toHaveLength(4);
  });

  it('remembers no failure: bad variables are checked again next time', () => {
    const { calls, cost } = countingCost();
    const costOf = rememberCosts(cost);
    const document = parse(QUERY);
    expect(() => costOf(schema, document, { first: 'many' }, 'Page')).toThrow('invalid value');
    expect(() => costOf(schema, document, { first: 'many' }, 'Page')).toThrow('invalid value');
    expect(calls).toHaveLength(2);
  });

  it('does not remember huge variables, and forgets the oldest combinations first', () => {
    const { calls, cost } = countingCost();
    const costOf = rememberCosts(cost);
    const document = parse(QUERY);
    const huge = { first: 1, padding: 'x'.repeat(5000) };
    costOf(schema, document, huge, 'Page');
    costOf(schema, document, huge, 'Page');
    expect(calls).toHaveLength(2);
    for (let first = 0; first < 65; first++) costOf(schema, document, { first }, 'Page');
    const before = calls.length;
    costOf(schema, document, { first: 64 }, 'Page'); // still remembered
    costOf(schema, document, { first: 0 }, 'Page'); // the oldest: forgotten
    expect(calls.length - before).toBe(1);
  });
});
