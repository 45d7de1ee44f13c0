/**
 * Hostile requests generated from the real supergraph: every root field and every argument the
 * schema declares, so new operations and fields are attacked without anyone listing them. Output is
 * deterministic for a seed, so a failure can be replayed.
 */
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';

export interface HostileRequest {
  category: string;
  method: 'GET' | 'POST';
  /** Query string for GET requests (already encoded). */
  search?: string;
  contentType?: string;
  /** POST body as sent on the wire (bytes, so invalid UTF-8 can be sent). */
  body?: Buffer;
  /** Sent as the caller's Authorization header. */
  as: 'anonymous' | 'customer' | 'admin';
}

/**
 * Documents whose operation cannot be chosen: several operations without operationName, an
 * operationName the document lacks, a subscription (the supergraph has none). The gateway answered
 * these 500 until OPERATION_RESOLUTION_FAILURE (found by this suite), so they keep a test of their own.
 */
export const UNRESOLVABLE_OPERATIONS = [
  { query: 'query A { me { id } } query B { cart { itemCount } }' },
  { query: 'query A { me { id } } query B { cart { itemCount } }', operationName: 'C' },
  { query: 'query A { me { id } }', operationName: 'C' },
  { query: 'subscription { orderChanged { id } }' },
];

/** Strings shaped like attacks on whatever sits behind a field: databases, files, browsers, loggers. */
export const INJECTIONS = [
  "' OR '1'='1",
  '\'; DROP TABLE "Product"; --',
  '1; SELECT pg_sleep(5)--',
  '" UNION SELECT password_hash FROM "User" --',
  '{"$gt": ""}',
  '{"$where": "sleep(1000)"}',
  '../../../../etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  'file:///etc/shadow',
  '<script>alert(document.cookie)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '%s%s%s%s%n%x',
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  '\u0000null-byte',
  '\u202eright-to-left',
  'a'.repeat(5_000),
  '😀'.repeat(500),
  '-1',
  '9999999999999999999999',
  '',
];

/** A small deterministic PRNG (mulberry32): the same seed replays the same requests. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const post = (category: string, payload: unknown, as: HostileRequest['as'] = 'anonymous'): HostileRequest => ({
  category,
  method: 'POST',
  contentType: 'application/json',
  body: json(payload),
  as,
});

interface RootField {
  root: 'query' | 'mutation';
  field: GraphQLField<unknown, unknown>;
}

export function rootFields(schema: GraphQLSchema): RootField[] {
  const fields: RootField[] = [];
  for (const root of ['query', 'mutation'] as const) {
    const type = root === 'query' ? schema.getQueryType() : schema.getMutationType();
    for (const field of Object.values(type?.getFields() ?? {})) fields.push({ root, field });
  }
  return fields;
}

const hasRequiredArgs = (field: GraphQLField<unknown, unknown>) => field.args.some((arg) => isNonNullType(arg.type));

/** A selection set for a type: its scalar fields plus, while depth allows, its object fields. */
export function selectionFor(type: GraphQLNamedType, depth: number, pick: () => number = () => 0): string {
  if (!isObjectType(type)) return '';
  const parts: string[] = [];
  for (const field of Object.values(type.getFields())) {
    if (hasRequiredArgs(field)) continue;
    const named = getNamedType(field.type);
    if (isObjectType(named)) {
      if (depth > 0 && pick() < 0.7) {
        const inner = selectionFor(named, depth - 1, pick);
        if (inner) parts.push(`${field.name} ${inner}`);
      }
    } else {
      parts.push(field.name);
    }
  }
  return parts.length ? `{ ${parts.join(' ')} }` : '';
}

/** A variable value of the right shape; `text` fills every string and id. */
export function valueFor(type: GraphQLInputType, text: () => string, depth = 0): unknown {
  if (isNonNullType(type)) return valueFor(type.ofType, text, depth);
  if (isListType(type)) return [valueFor(type.ofType, text, depth)];
  if (isEnumType(type)) return type.getValues()[0]?.name;
  if (isInputObjectType(type)) {
    if (depth > 3) return {};
    return Object.fromEntries(
      Object.values(type.getFields()).map((field) => [field.name, valueFor(field.type, text, depth + 1)]),
    );
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return 1;
      case 'Float':
        return 1.5;
      case 'Boolean':
        return true;
      default:
        return text();
    }
  }
  return null;
}

/** A value of the wrong type for a slot: the server must refuse it as bad input, not crash. */
function wrongValueFor(type: GraphQLInputType, random: () => number): unknown {
  const named = getNamedType(type);
  const wrongs: unknown[] = [
    { nested: { deeper: [1, 2, 3] } },
    [[['x']]],
    1e308,
    -2_147_483_649,
    'not-a-number',
    true,
    null,
    3.14159,
  ];
  if (isScalarType(named) && (named.name === 'String' || named.name === 'ID')) wrongs.push({ $gt: '' }, [1, 2]);
  return wrongs[Math.floor(random() * wrongs.length)];
}

export function operationFor(
  { root, field }: RootField,
  values: (argType: GraphQLInputType) => unknown,
  depth = 1,
  selectionOverride?: string,
): { query: string; variables: Record<string, unknown> } {
  const variables: Record<string, unknown> = {};
  const declarations: string[] = [];
  const args: string[] = [];
  for (const arg of field.args) {
    declarations.push(`$${arg.name}: ${String(arg.type)}`);
    args.push(`${arg.name}: $${arg.name}`);
    variables[arg.name] = values(arg.type);
  }
  const selection = selectionOverride ?? selectionFor(getNamedType(field.type), depth);
  const header = declarations.length ? `${root} Hostile(${declarations.join(', ')})` : `${root} Hostile`;
  const call = args.length ? `${field.name}(${args.join(', ')})` : field.name;
  return { query: `${header} { ${call} ${selection} }`, variables };
}

/** Field paths that lead back to the same type, for queries as deep as the attacker likes. */
function deepQuery(depth: number): string {
  // Category.parent/children and Payment.order/Order.payment are the graph's cycles.
  let inner = 'id';
  for (let level = 0; level < depth; level++) inner = `children { id ${inner} }`;
  return `{ categories { ${inner} } }`;
}

export interface Generator {
  /** Requests per category, in a deterministic order. */
  generate(total: number): HostileRequest[];
  categories: string[];
}

export function hostileGenerator(schema: GraphQLSchema, seed: number): Generator {
  const random = prng(seed);
  const pickOf = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const fields = rootFields(schema);
  const withStrings = fields.filter(({ field }) => field.args.length > 0);
  const caller = (): HostileRequest['as'] => pickOf(['anonymous', 'customer', 'admin'] as const);
  const objectTypes = Object.values(schema.getTypeMap()).filter(
    (type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__'),
  );

  const makers: Record<string, () => HostileRequest> = {
    deep: () => post('deep', { query: deepQuery(5 + Math.floor(random() * 200)) }, caller()),
    wide: () => {
      const target = pickOf(fields);
      // Every field to six levels, repeated: wide and costly, yet valid GraphQL.
      const selection = selectionFor(getNamedType(target.field.type), 6, random).slice(1, -1);
      const repeated = Array.from({ length: 1 + Math.floor(random() * 30) }, () => selection).join(' ');
      return post(
        'wide',
        operationFor(target, (type) => valueFor(type, () => 'x'), 0, `{ ${repeated} }`),
        caller(),
      );
    },
    aliased: () => {
      const count = 10 + Math.floor(random() * 2_000);
      const aliases = Array.from({ length: count }, (_, index) => `a${index}: products(first: 100) { nodes { id name } }`).join(
        ' ',
      );
      return post('aliased', { query: `{ ${aliases} }` }, caller());
    },
    fragmentCycle: () => {
      const size = 2 + Math.floor(random() * 20);
      const names = Array.from({ length: size }, (_, index) => `F${index}`);
      const fragments = names
        .map((name, index) => `fragment ${name} on Query { me { id } ...${names[(index + 1) % size]} }`)
        .join(' ');
      return post('fragmentCycle', { query: `query { ...F0 } ${fragments}` }, caller());
    },
    hugeString: () => {
      const target = pickOf(withStrings);
      const size = pickOf([10_000, 60_000, 99_000, 200_000, 2_000_000]);
      return post(
        'hugeString',
        operationFor(target, (type) => valueFor(type, () => 'x'.repeat(size))),
        caller(),
      );
    },
    hugeList: () => {
      const length = pickOf([1_000, 10_000, 50_000]);
      const lines = Array.from({ length }, () => ({ productId: '1', quantity: 1 }));
      return pickOf([
        post(
          'hugeList',
          {
            query:
              'mutation ($lines: [OrderLineInput!]!) { placeOrder(lines: $lines, paymentMethodId: "x", shippingAddressId: "y", idempotencyKey: "z") { id } }',
            variables: { lines },
          },
          'customer',
        ),
        post('hugeList', { query: `{ products(first: ${pickOf([101, 100_000, 2_147_483_647])}) { nodes { id } } }` }, caller()),
        post('hugeList', { query: '{ products(first: -5) { nodes { id } } }' }, caller()),
      ]);
    },
    wrongType: () => {
      const target = pickOf(withStrings);
      if (random() < 0.5)
        return post(
          'wrongType',
          operationFor(target, (type) => wrongValueFor(type, random)),
          caller(),
        );
      // Inline literals of the wrong kind, refused at validation.
      const args = target.field.args.map(
        (arg) => `${arg.name}: ${pickOf(['{ a: 1 }', '[1, [2]]', '"s"', '12', 'true', 'null', 'ENUM_X'])}`,
      );
      return post('wrongType', { query: `${target.root} { ${target.field.name}(${args.join(', ')}) { __typename } }` }, caller());
    },
    invalidUtf8: () => {
      const prefix = Buffer.from('{"query":"{ product(slug: \\"');
      const suffix = Buffer.from('\\") { id } }"}');
      const garbage = Buffer.from(
        pickOf([
          [0xff, 0xfe, 0xfd],
          [0xc3, 0x28],
          [0xe2, 0x82],
          [0xf0, 0x90, 0x28, 0xbc],
          [0xed, 0xa0, 0x80],
        ]),
      );
      return {
        category: 'invalidUtf8',
        method: 'POST',
        contentType: 'application/json',
        body: Buffer.concat([prefix, garbage, suffix]),
        as: caller(),
      };
    },
    oversizedBody: () => {
      const size = pickOf([101 * 1024, 512 * 1024, 3 * 1024 * 1024]);
      return post('oversizedBody', { query: `{ __typename }`, variables: { padding: 'p'.repeat(size) } }, caller());
    },
    malformedJson: () => {
      const bodies = [
        '{"query": "{ products { nodes { id } } }"',
        '{"query": }',
        'null',
        '"just a string"',
        '42',
        '{"query": 1}',
        '{"query": ["{ me { id } }"]}',
        '{"query": "{ me { id } }", "variables": "not an object"}',
        '{"query": "{ me { id } }", "variables": [1,2]}',
        '{"query": "{ me { id } }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "nope"}}}',
        '{"__proto__": {"polluted": true}, "query": "{ __typename }"}',
        '{}',
        '',
        '{"query": "{ me { id } }"} trailing',
        '\u0000\u0001\u0002',
      ];
      const contentType = pickOf([
        'application/json',
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/graphql',
      ]);
      return { category: 'malformedJson', method: 'POST', contentType, body: Buffer.from(pickOf(bodies)), as: caller() };
    },
    getMutation: () => {
      const target = pickOf(fields.filter((candidate) => candidate.root === 'mutation'));
      const { query, variables } = operationFor(target, (type) => valueFor(type, () => 'x'));
      const search = new URLSearchParams({ query, variables: JSON.stringify(variables) }).toString();
      return { category: 'getMutation', method: 'GET', search, as: caller() };
    },
    unknownOperation: () =>
      pickOf([
        ...UNRESOLVABLE_OPERATIONS.map((payload) => post('unknownOperation', payload, caller())),
        post('unknownOperation', { query: '{ noSuchField }' }, caller()),
        post('unknownOperation', { query: `{ ${pickOf(objectTypes).name} }` }, caller()),
        post(
          'unknownOperation',
          { query: '{ __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }' },
          caller(),
        ),
        post(
          'unknownOperation',
          { query: '{ _entities(representations: [{ __typename: "User", id: "x" }]) { ... on User { email } } }' },
          caller(),
        ),
        post('unknownOperation', { query: '{ _service { sdl } }' }, caller()),
        post(
          'unknownOperation',
          {
            query:
              '{ me @skip(if: false) @include(if: true) @skip(if: false) @include(if: true) @skip(if: false) @include(if: true) @skip(if: false) @include(if: true) @skip(if: false) @include(if: true) @skip(if: false) { id } }',
          },
          caller(),
        ),
      ]),
    batched: () => {
      const size = pickOf([2, 5, 6, 50, 1_000]);
      return post(
        'batched',
        Array.from({ length: size }, () => ({ query: '{ me { id } products(first: 1) { nodes { id } } }' })),
        caller(),
      );
    },
    injection: () => {
      const target = pickOf(withStrings);
      const payload = pickOf(INJECTIONS);
      return post(
        'injection',
        operationFor(target, (type) => valueFor(type, () => payload)),
        caller(),
      );
    },
  };
  const categories = Object.keys(makers);
  return {
    categories,
    generate(total) {
      const requests: HostileRequest[] = [];
      // A third of the budget goes round every root field with arguments, each round with the next
      // injection in every string it takes; larger budgets reach every (field, injection) pair.
      for (let index = 0; requests.length < total / 3; index++) {
        const round = Math.floor(index / withStrings.length);
        const target = withStrings[index % withStrings.length]!;
        const payload = INJECTIONS[(round + index) % INJECTIONS.length]!;
        requests.push(
          post(
            'injection',
            operationFor(target, (type) => valueFor(type, () => payload)),
            caller(),
          ),
        );
      }
      while (requests.length < total) requests.push(makers[categories[requests.length % categories.length]!]!());
      return requests;
    },
  };
}
