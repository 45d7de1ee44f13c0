/** Which documents use introspection (decided once per parsed document). */
import { parse } from 'graphql';
import { usesIntrospection } from '../../src/introspection.ts';

describe('usesIntrospection', () => {
  it('finds __schema and __type anywhere, fragments included', () => {
    expect(usesIntrospection(parse('{ __schema { types { name } } }'))).toBe(true);
    expect(usesIntrospection(parse('query Q { ...F } fragment F on Query { __type(name: "Product") { name } }'))).toBe(true);
    expect(usesIntrospection(parse('{ products(first: 1) { nodes { id __typename } } }'))).toBe(false);
  });

  it('answers repeats of the same parsed document the same way', () => {
    const introspecting = parse('{ a: __schema { queryType { name } } }');
    const plain = parse('{ categories { id } }');
    for (let i = 0; i < 3; i++) {
      expect(usesIntrospection(introspecting)).toBe(true);
      expect(usesIntrospection(plain)).toBe(false);
    }
  });
});
