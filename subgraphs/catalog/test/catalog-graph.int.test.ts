/**
 * The catalog on real PostgreSQL behind the gateway: stable keyset pagination with ties, combined
 * filters, full-text ranking, archived products, optimistic concurrency, authorization, input errors,
 * and the number of SQL statements a request costs (DataLoader batching).
 */
import { bearer, describeWithServers } from '@commerce/testkit';
import { demoCatalog, seedDemoCatalog, type DemoProduct } from '../src/adapters/prisma/demo-catalog.ts';
import { startCatalogOnPostgres, type CatalogOnPostgres } from './catalog-on-postgres.ts';

const ADMIN = { authorization: bearer('admin-1', 'ADMIN') };
const CUSTOMER = { authorization: bearer('customer-1', 'CUSTOMER') };

const LIST = `query List($first: Int, $after: String, $filter: ProductFilter, $sort: ProductSort) {
  products(first: $first, after: $after, filter: $filter, sort: $sort) {
    totalCount
    nodes { id name price { amountCents } }
    pageInfo { hasNextPage endCursor }
  }
}`;
interface List {
  products: {
    totalCount: number;
    nodes: { id: string; name: string; price: { amountCents: number } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

const compareIds = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const ids = (products: { id: string }[]) => products.map((product) => product.id);

describeWithServers(['TEST_DATABASE_URL'], 'catalog graph on real PostgreSQL', () => {
  let env: CatalogOnPostgres;
  const demo = demoCatalog();

  beforeAll(async () => {
    // No response cache here: these tests measure what the catalog itself does per request.
    env = await startCatalogOnPostgres({ gatewayEnv: { GATEWAY_RESPONSE_CACHE: 'false' } });
    await seedDemoCatalog(env.catalog.prisma);
  }, 90_000);
  afterAll(() => env?.stop());

  async function walk(variables: Record<string, unknown>, pageSize: number, between?: (page: number) => Promise<void>) {
    const seen: List['products']['nodes'] = [];
    let after: string | null = null;
    let totalCount = -1;
    for (let page = 0; page < 200; page++) {
      const body: { data?: List; errors?: unknown[] } = await env.query<List>(LIST, { ...variables, first: pageSize, after });
      expect(body.errors).toBeUndefined();
      totalCount = body.data!.products.totalCount;
      seen.push(...body.data!.products.nodes);
      await between?.(page);
      if (!body.data!.products.pageInfo.hasNextPage) return { nodes: seen, totalCount };
      after = body.data!.products.pageInfo.endCursor;
    }
    throw new Error('pagination did not end');
  }

  describe('pagination', () => {
    const active = () => demo.products;
    const byPrice = (direction: 1 | -1) => (a: DemoProduct, b: DemoProduct) =>
      direction * (a.priceCents - b.priceCents) || direction * compareIds(a.id, b.id);

    it('the demo catalog really has price ties to break', () => {
      expect(new Set(active().map((p) => p.priceCents)).size).toBeLessThan(active().length / 5);
    });

    it.each([
      ['PRICE_ASC', byPrice(1)],
      ['PRICE_DESC', byPrice(-1)],
      ['NEWEST', (a: DemoProduct, b: DemoProduct) => b.createdAt.getTime() - a.createdAt.getTime() || -compareIds(a.id, b.id)],
    ] as const)('walks %s in pages of 7 with no duplicate and no gap, in exactly the sort order', async (sort, order) => {
      const { nodes, totalCount } = await walk({ sort }, 7);
      expect(totalCount).toBe(230);
      expect(ids(nodes)).toEqual(ids([...active()].sort(order)));
    });

    it('walks NAME order with ties broken by id', async () => {
      const { nodes } = await walk({ sort: 'NAME' }, 9);
      expect(new Set(ids(nodes)).size).toBe(230);
      const names = nodes.map((node) => node.name);
      // The database's collation decides the name order; the walk must agree with one full query.
      const whole = await env.query<List>(LIST, { first: 100, sort: 'NAME' });
      expect(names.slice(0, 100)).toEqual(whole.data!.products.nodes.map((node) => node.name));
    });

    it('stays stable while products are added between pages', async () => {
      const cheapest = [...active()].sort(byPrice(1));
      let newId = '';
      const { nodes } = await walk(
        { sort: 'PRICE_ASC', filter: { categoryId: demo.categories.find((c) => c.slug === 'cycling')!.id } },
        5,
        async (page) => {
          if (page !== 1) return;
          // A new product that sorts before the cursor must neither show up nor shift what follows.
          const created = await env.query<{ createProduct: { id: string } }>(
            `mutation { createProduct(input: { sku: "NEW-CHEAP", name: "Budget Bell", priceCents: 1, categoryId: "${demo.categories.find((c) => c.slug === 'cycling')!.id}", initialStock: 1 }) { id } }`,
            {},
            ADMIN,
          );
          expect(created.errors).toBeUndefined();
          newId = created.data!.createProduct.id;
        },
      );
      const cycling = cheapest.filter((p) => p.categoryId === demo.categories.find((c) => c.slug === 'cycling')!.id);
      expect(newId).not.toBe('');
      expect(ids(nodes)).toEqual(ids(cycling)); // the new cheapest product lies before the cursor: not seen, nothing repeated
      const cleanup = await env.query(`mutation { archiveProduct(id: "${newId}") { id } }`, {}, ADMIN);
      expect(cleanup.errors).toBeUndefined();
    });

    it('refuses pages larger than the maximum, naming `first`', async () => {
      const body = await env.query(LIST, { first: 101 });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    });
  });

  describe('filters', () => {
    it('combine: category subtree, price range, in stock and search together', async () => {
      const outdoors = demo.categories.find((c) => c.slug === 'outdoors')!;
      const leaves = new Set(demo.categories.filter((c) => c.parentId === outdoors.id).map((c) => c.id));
      const filter = { categoryId: outdoors.id, minPriceCents: 3000, maxPriceCents: 6999, inStock: true };
      const expected = demo.products.filter(
        (p) => leaves.has(p.categoryId) && p.priceCents >= 3000 && p.priceCents <= 6999 && p.onHand > 0,
      );
      expect(expected.length).toBeGreaterThan(10);
      const { nodes, totalCount } = await walk({ filter, sort: 'PRICE_ASC' }, 20);
      expect(totalCount).toBe(expected.length);
      expect(new Set(ids(nodes))).toEqual(new Set(ids(expected)));
      // Sold-out products are excluded by inStock: true and are exactly what inStock: false returns.
      const soldOut = await walk({ filter: { ...filter, inStock: false } }, 20);
      expect(new Set(ids(soldOut.nodes))).toEqual(
        new Set(
          ids(
            demo.products.filter(
              (p) => leaves.has(p.categoryId) && p.priceCents >= 3000 && p.priceCents <= 6999 && p.onHand === 0,
            ),
          ),
        ),
      );

      const tents = await walk({ filter: { ...filter, search: 'tent' } }, 20);
      expect(new Set(ids(tents.nodes))).toEqual(new Set(ids(expected.filter((p) => p.name.endsWith('Tent')))));
    });
  });

  describe('search', () => {
    let nameMatch: string;
    let attributeMatch: string;
    let descriptionMatch: string;

    beforeAll(async () => {
      const create = async (input: Record<string, unknown>) => {
        const body = await env.query<{ createProduct: { id: string } }>(
          `mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
          { input: { priceCents: 1000, initialStock: 1, ...input } },
          ADMIN,
        );
        expect(body.errors).toBeUndefined();
        return body.data!.createProduct.id;
      };
      // Created in the opposite order of the expected ranking, so the order cannot come from creation time.
      descriptionMatch = await create({ sku: 'S-DESC', name: 'Plain Bottle', description: 'Pairs well with a zephyrine flask.' });
      attributeMatch = await create({ sku: 'S-ATTR', name: 'Steel Cup', attributes: [{ name: 'Series', value: 'Zephyrine' }] });
      nameMatch = await create({ sku: 'S-NAME', name: 'Zephyrine Flask', description: 'Keeps drinks hot.' });
    });

    it('ranks a name match above an attribute match above a description match', async () => {
      const body = await env.query<List>(LIST, { first: 10, filter: { search: 'zephyrine' } });
      expect(body.errors).toBeUndefined();
      expect(ids(body.data!.products.nodes)).toEqual([nameMatch, attributeMatch, descriptionMatch]);
    });

    it('pages through relevance order with cursors', async () => {
      const { nodes } = await walk({ filter: { search: 'zephyrine' } }, 1);
      expect(ids(nodes)).toEqual([nameMatch, attributeMatch, descriptionMatch]);
    });

    it('stems words and supports web search syntax', async () => {
      const plural = await env.query<List>(LIST, { first: 10, filter: { search: 'flasks' } });
      expect(ids(plural.data!.products.nodes)).toEqual([nameMatch, descriptionMatch]);
      const excluded = await env.query<List>(LIST, { first: 10, filter: { search: 'zephyrine -bottle' } });
      // (ts_rank scores a query with an exclusion by term proximity, so only the set is certain here.)
      expect(new Set(ids(excluded.data!.products.nodes))).toEqual(new Set([nameMatch, attributeMatch]));
      const nonsense = await env.query<List>(LIST, { first: 10, filter: { search: `"'); DROP TABLE products; --` } });
      expect(nonsense.errors).toBeUndefined();
      expect(nonsense.data!.products.totalCount).toBe(0);
    });
  });

  describe('archived products', () => {
    it('never appear to shoppers, whichever way they look, but still resolve for order lines', async () => {
      const target = demo.products.find((p) => p.name === 'Quartz Tent')!;
      const before = await env.query<List>(LIST, { first: 1 });
      const archived = await env.query<{ archiveProduct: { status: string } }>(
        `mutation { archiveProduct(id: "${target.id}") { status } }`,
        {},
        ADMIN,
      );
      expect(archived.data!.archiveProduct.status).toBe('ARCHIVED');

      for (const sort of ['NEWEST', 'PRICE_ASC', 'NAME']) {
        const { nodes, totalCount } = await walk({ sort }, 50);
        expect(ids(nodes)).not.toContain(target.id);
        expect(totalCount).toBe(before.data!.products.totalCount - 1);
      }
      for (const filter of [{ search: 'quartz tent' }, { categoryId: target.categoryId }, { inStock: target.onHand > 0 }]) {
        const { nodes } = await walk({ filter }, 50);
        expect(ids(nodes)).not.toContain(target.id);
      }
      for (const headers of [{}, CUSTOMER]) {
        const byId = await env.query<{ product: null }>(`{ product(id: "${target.id}") { id } }`, {}, headers);
        const bySlug = await env.query<{ product: null }>(`{ product(slug: "${target.slug}") { id } }`, {}, headers);
        expect([byId.data!.product, bySlug.data!.product]).toEqual([null, null]);
      }
      const entities = await env.subgraph<{ _entities: { status: string }[] }>(
        `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { status } } }`,
        { r: [{ __typename: 'Product', id: target.id }] },
      );
      expect(entities.data!._entities).toEqual([{ status: 'ARCHIVED' }]);
      expect(await env.catalog.prisma.product.count({ where: { id: target.id } })).toBe(1); // never deleted
    });
  });

  describe('optimistic concurrency', () => {
    it('lets exactly one of two concurrent updates of the same version win; the other gets CONFLICT', async () => {
      const target = demo.products.find((p) => p.name === 'Ember Helmet')!;
      const { version } = (await env.catalog.prisma.product.findUniqueOrThrow({ where: { id: target.id } })) as {
        version: number;
      };
      const update = (name: string) =>
        env.query<{ updateProduct: { name: string; version: number } }>(
          `mutation ($input: UpdateProductInput!) { updateProduct(input: $input) { name version } }`,
          { input: { id: target.id, version, name } },
          ADMIN,
        );
      const results = await Promise.all([update('Ember Helmet Pro'), update('Ember Helmet Max')]);
      const winners = results.filter((result) => result.data?.updateProduct);
      const losers = results.filter((result) => result.errors);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(1);
      expect(losers[0]!.errors![0]!.extensions).toMatchObject({
        code: 'CONFLICT',
        field: 'version',
        currentVersion: version + 1,
      });
      const stored = await env.catalog.prisma.product.findUniqueOrThrow({ where: { id: target.id } });
      expect(stored).toMatchObject({ name: winners[0]!.data!.updateProduct.name, version: version + 1 });
      expect(await env.catalog.prisma.outboxEvent.count({ where: { aggregateId: target.id, type: 'ProductUpdated' } })).toBe(1);
    });
  });

  describe('authorization and input errors', () => {
    const someId = demo.products[0]!.id;
    const mutations = [
      `mutation { createProduct(input: { sku: "X-1", name: "X", priceCents: 1 }) { id } }`,
      `mutation { updateProduct(input: { id: "${someId}", version: 1, name: "X" }) { id } }`,
      `mutation { adjustStock(productId: "${someId}", delta: 5, reason: "x") { id } }`,
      `mutation { archiveProduct(id: "${someId}") { id } }`,
      `mutation { createCategory(input: { name: "X" }) { id } }`,
      `mutation { updateCategory(input: { id: "${demo.categories[0]!.id}", name: "X" }) { id } }`,
    ];

    it('refuses every admin mutation to a customer with FORBIDDEN, changing nothing', async () => {
      const outboxBefore = await env.catalog.prisma.outboxEvent.count();
      for (const mutation of mutations) {
        const body = await env.query(mutation, {}, CUSTOMER);
        expect({ mutation, code: body.errors?.[0]?.extensions?.code }).toEqual({ mutation, code: 'FORBIDDEN' });
      }
      expect(await env.catalog.prisma.outboxEvent.count()).toBe(outboxBefore);
      expect(await env.catalog.prisma.category.count({ where: { name: 'X' } })).toBe(0);
    });

    it('answers bad input with BAD_USER_INPUT naming the field', async () => {
      const cases: [string, string][] = [
        [`mutation { createProduct(input: { sku: "X-2", name: "X", priceCents: -1 }) { id } }`, 'priceCents'],
        [`mutation { createProduct(input: { sku: "X-2", name: "X", slug: "Bad Slug", priceCents: 1 }) { id } }`, 'slug'],
        [`mutation { createProduct(input: { sku: "X-2", name: "${'n'.repeat(201)}", priceCents: 1 }) { id } }`, 'name'],
        [`mutation { adjustStock(productId: "${someId}", delta: 0, reason: "x") { id } }`, 'delta'],
        [`mutation { updateProduct(input: { id: "${someId}", version: 1, currency: "dollars" }) { id } }`, 'currency'],
        [`mutation { createCategory(input: { name: "Y", parentId: "nope" }) { id } }`, 'parentId'],
      ];
      for (const [mutation, field] of cases) {
        const body = await env.query(mutation, {}, ADMIN);
        expect({ field, error: body.errors?.[0]?.extensions }).toMatchObject({ field, error: { code: 'BAD_USER_INPUT', field } });
      }
    });
  });

  describe('SQL statements per request', () => {
    // The outbox relay polls on the same connection pool; its statements are not the request's.
    const requestStatements = () =>
      env.sql.statements.filter((sql) => !/outbox_events/.test(sql) && !/^\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(sql));

    const PAGE = `query ($first: Int) {
      products(first: $first, sort: PRICE_DESC) {
        totalCount
        nodes { name stock { available } category { name parent { name } } }
      }
    }`;

    async function statementsFor(query: string, variables: Record<string, unknown>) {
      env.sql.reset();
      const body = await env.query<{ products: { nodes: { category: unknown }[] } }>(query, variables);
      expect(body.errors).toBeUndefined();
      return { statements: requestStatements(), nodes: body.data!.products.nodes };
    }

    it('a page of products with their categories costs the same few statements whatever its size', async () => {
      const small = await statementsFor(PAGE, { first: 5 });
      const large = await statementsFor(PAGE, { first: 50 });
      expect(large.nodes).toHaveLength(50);
      expect(large.nodes.every((node) => node.category)).toBe(true);
      // page + count + categories of the page + their parents, however many products there are.
      expect(large.statements).toHaveLength(4);
      expect(small.statements).toHaveLength(large.statements.length);
    });

    it('a category page (Category.products) costs the same few statements whatever its size', async () => {
      const CATEGORY_PAGE = `query ($first: Int) {
        category(slug: "electronics") {
          name
          products(first: $first, sort: PRICE_DESC) {
            totalCount
            nodes { name stock { available } category { name parent { name } } }
          }
        }
      }`;
      const measure = async (first: number) => {
        env.sql.reset();
        const body = await env.query<{ category: { products: { nodes: { category: unknown }[] } } }>(CATEGORY_PAGE, { first });
        expect(body.errors).toBeUndefined();
        return { statements: requestStatements(), nodes: body.data!.category.products.nodes };
      };
      const small = await measure(5);
      const large = await measure(50);
      console.log(`category page: ${small.statements.length} statements for 5 products, ${large.statements.length} for 50`);
      expect(large.nodes).toHaveLength(50);
      expect(large.nodes.every((node) => node.category)).toBe(true);
      // The category + the listing's page and count + categories of the page + their parents.
      expect(large.statements.length).toBeLessThanOrEqual(5);
      expect(small.statements).toHaveLength(large.statements.length);
    });

    it('resolves 100 product references (`_entities`) with one statement', async () => {
      const representations = demo.products.slice(0, 100).map((p) => ({ __typename: 'Product', id: p.id }));
      env.sql.reset();
      const body = await env.subgraph<{ _entities: { id: string; name: string; stock: { available: number } }[] }>(
        `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id name stock { available } } } }`,
        { r: representations },
      );
      expect(body.errors).toBeUndefined();
      expect(ids(body.data!._entities)).toEqual(ids(representations));
      expect(requestStatements()).toHaveLength(1);
    });

    it('resolves 100 product references with their categories in two statements', async () => {
      const representations = demo.products.slice(100, 200).map((p) => ({ __typename: 'Product', id: p.id }));
      env.sql.reset();
      const body = await env.subgraph(
        `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id category { slug } } } }`,
        { r: representations },
      );
      expect(body.errors).toBeUndefined();
      expect(requestStatements()).toHaveLength(2);
    });
  });
});
