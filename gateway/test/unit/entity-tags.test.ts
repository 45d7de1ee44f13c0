import { buildSchema, getOperationAST, parse } from 'graphql';
import { collectEntityTags } from '../../src/cache/entity-tags.ts';
import { purgeTagsFor } from '../../src/cache/purge-on-events.ts';

const schema = buildSchema(`
  type Query { product(id: ID!): Product  products(first: Int): ProductConnection!  node(id: ID!): Node  search: [SearchHit!]! }
  interface Node { id: ID! }
  type Product implements Node { id: ID!  name: String!  price: Money!  category: Category }
  type Category implements Node { id: ID!  name: String! }
  type Money { amountCents: Int!  currency: String! }
  type ProductConnection { nodes: [Product!]!  totalCount: Int! }
  union SearchHit = Product | Category
`);

function tags(query: string, data: Record<string, unknown>) {
  const document = parse(query);
  return collectEntityTags(schema, document, getOperationAST(document)!, data);
}

describe('entity tags of a cached response', () => {
  it('tags a single entity by its id, following aliases, and nested entities too', () => {
    expect(
      tags('{ p: product(id: "1") { key: id name category { id } price { amountCents } } }', {
        p: { key: '1', name: 'Mug', category: { id: 'c9' }, price: { amountCents: 500 } },
      }),
    ).toEqual(['Category:c9', 'Product:1']);
  });

  it('tags entities inside a list with their ids and the type-wide tag (list membership can change)', () => {
    expect(
      tags('{ products(first: 2) { nodes { id } totalCount } }', {
        products: { nodes: [{ id: 'a' }, { id: 'b' }], totalCount: 2 },
      }),
    ).toEqual(['Product:*', 'Product:a', 'Product:b']);
  });

  it('falls back to the type-wide tag when the id was not selected', () => {
    expect(tags('{ product(id: "1") { name } }', { product: { name: 'Mug' } })).toEqual(['Product:*']);
  });

  it('reads named and inline fragments on interfaces and unions, using __typename when present', () => {
    const query = `
      { node(id: "1") { ...N }  search { __typename ... on Product { id } ... on Category { id name } } }
      fragment N on Node { id }`;
    const result = tags(query, {
      node: { id: '1' },
      search: [
        { __typename: 'Product', id: 'p1' },
        { __typename: 'Category', id: 'c1', name: 'Kitchen' },
      ],
    });
    expect(result).toEqual(expect.arrayContaining(['Product:p1', 'Category:c1', 'Product:*', 'Category:*']));
    // Without __typename the node could be either type: both are tagged, which only ever purges more.
    expect(result).toEqual(expect.arrayContaining(['Product:1', 'Category:1']));
  });

  it('tags a "not found" with the type-wide tag, so the product’s creation purges it', () => {
    expect(tags('{ product(id: "x") { id } }', { product: null })).toEqual(['Product:*']);
    expect(tags('{ products(first: 1) { totalCount } }', { products: { totalCount: 0 } })).toEqual([]);
  });
});

describe('purge tags of a catalog event', () => {
  it('purges the product and every cached product list for product and stock events', () => {
    for (const type of ['ProductCreated', 'ProductUpdated', 'ProductArchived', 'StockChanged']) {
      expect(purgeTagsFor({ type, aggregateId: 'p1', payload: { productId: 'p1' } })).toEqual(['Product:p1', 'Product:*']);
    }
  });

  it('purges every product of a reservation saga event, keyed by the order', () => {
    expect(
      purgeTagsFor({
        type: 'StockReserved',
        aggregateId: 'order-1',
        payload: { orderId: 'order-1', lines: [{ productId: 'a' }, { productId: 'b' }] },
      }),
    ).toEqual(['Product:a', 'Product:b', 'Product:*']);
  });

  it('ignores events that do not change products', () => {
    expect(purgeTagsFor({ type: 'StockRejected', aggregateId: 'order-1', payload: { orderId: 'order-1' } })).toEqual([]);
    expect(purgeTagsFor({ type: 'UserRegistered', aggregateId: 'u1', payload: {} })).toEqual([]);
  });
});
