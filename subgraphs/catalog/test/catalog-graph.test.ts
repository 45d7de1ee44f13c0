/**
 * The catalog's main paths in embedded mode (PGlite, one stack for the whole file): browsing the demo
 * catalog through the gateway, the admin mutations, federation lookups and the saga's reservation port.
 */
import { bearer, startTestStack, subgraphAccessHeaders, type TestStack } from '@commerce/testkit';
import type { CatalogService } from '../src/main.ts';
import { demoCatalog } from '../src/adapters/prisma/demo-catalog.ts';

const ADMIN = { authorization: bearer('admin-1', 'ADMIN') };
const CUSTOMER = { authorization: bearer('customer-1', 'CUSTOMER') };

const LIST = `query List($first: Int, $after: String, $filter: ProductFilter, $sort: ProductSort) {
  products(first: $first, after: $after, filter: $filter, sort: $sort) {
    totalCount
    nodes { id name slug status price { amountCents } stock { available inStock } category { slug } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface ListedNode {
  id: string;
  name: string;
  slug: string;
  status: string;
  price: { amountCents: number };
  stock: { available: number; inStock: boolean };
  category: { slug: string } | null;
}
interface List {
  products: { totalCount: number; nodes: ListedNode[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

const PRODUCT_FIELDS = `id sku slug name description status version price { amountCents currency }
  images { url alt } attributes { name value } category { id slug } stock { available inStock onHand reserved }`;

let stack: TestStack;
let catalog: CatalogService;

beforeAll(async () => {
  stack = await startTestStack({ seed: true });
  catalog = stack.services.catalog as CatalogService;
}, 180_000);
afterAll(() => stack?.stop());

async function gql<Data>(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const { body } = await stack.query<Data>(query, variables, headers);
  return body;
}

/** Polls `read` until it returns 0 or the time is up (events travel asynchronously). */
async function eventually(read: () => Promise<number>, timeoutMs = 5_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value === 0 || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function allPages(variables: Record<string, unknown>): Promise<ListedNode[]> {
  const nodes: ListedNode[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page++) {
    const body: { data?: List; errors?: unknown[] } = await gql<List>(LIST, { ...variables, first: 40, after });
    expect(body.errors).toBeUndefined();
    nodes.push(...body.data!.products.nodes);
    if (!body.data!.products.pageInfo.hasNextPage) return nodes;
    after = body.data!.products.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

describe('browsing the demo catalog', () => {
  it('has 230 products in seven leaf categories, some sold out, all with images and attributes', async () => {
    const body = await gql<{ products: { totalCount: number } }>(`{ products(first: 1) { totalCount } }`);
    expect(body.data!.products.totalCount).toBe(230);
    const soldOut = await gql<List>(LIST, { first: 100, filter: { inStock: false } });
    const expectedSoldOut = demoCatalog().products.filter((product) => product.onHand === 0).length;
    expect(expectedSoldOut).toBeGreaterThan(0);
    expect(soldOut.data!.products.totalCount).toBe(expectedSoldOut);
    expect(soldOut.data!.products.nodes.every((node) => !node.stock.inStock && node.stock.available === 0)).toBe(true);

    const one = await gql<{ product: { images: unknown[]; attributes: unknown[] } }>(
      `{ product(slug: "aurora-kettle") { images { url } attributes { name value } } }`,
    );
    expect(one.data!.product.images.length).toBeGreaterThan(0);
    expect(one.data!.product.attributes).toContainEqual({ name: 'Color', value: 'Black' });
  });

  it('sorts by price across pages with ties, without duplicates or gaps', async () => {
    const nodes = await allPages({ sort: 'PRICE_ASC' });
    expect(nodes).toHaveLength(230);
    expect(new Set(nodes.map((node) => node.id)).size).toBe(230);
    const prices = nodes.map((node) => node.price.amountCents);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
  });

  it('filters by a top-level category including its subcategories', async () => {
    const tree = await gql<{ category: { id: string; children: { slug: string }[] } }>(
      `{ category(slug: "home") { id children { slug } } }`,
    );
    const home = tree.data!.category;
    expect(home.children.map((child) => child.slug)).toEqual(['kitchen', 'lighting']);
    const nodes = await allPages({ filter: { categoryId: home.id } });
    const { categories, products } = demoCatalog();
    const homeLeaves = new Set(categories.filter((c) => c.parentId === home.id).map((c) => c.id));
    expect(nodes).toHaveLength(products.filter((p) => homeLeaves.has(p.categoryId)).length);
    expect(new Set(nodes.map((node) => node.category?.slug))).toEqual(new Set(['kitchen', 'lighting']));
  });

  it('searches names, attributes and descriptions, best match first', async () => {
    const body = await gql<List>(LIST, { first: 20, filter: { search: 'kettle' } });
    expect(body.errors).toBeUndefined();
    const names = body.data!.products.nodes.map((node) => node.name);
    expect(names.length).toBe(10);
    expect(names.every((name) => name.endsWith('Kettle'))).toBe(true);
    const byAttribute = await gql<List>(LIST, { first: 50, filter: { search: 'tactile' } });
    expect(byAttribute.data!.products.totalCount).toBeGreaterThan(0);
    expect(byAttribute.data!.products.nodes.every((node) => node.category?.slug === 'keyboards')).toBe(true);
  });

  it('lists the category tree', async () => {
    const body = await gql<{
      categories: { slug: string; parent: null; children: { slug: string; parent: { slug: string } }[] }[];
    }>(`{ categories { slug parent { slug } children { slug parent { slug } } } }`);
    expect(body.data!.categories.map((category) => category.slug)).toEqual(['electronics', 'home', 'outdoors']);
    const electronics = body.data!.categories[0]!;
    expect(electronics.children.map((child) => child.slug)).toEqual(['cameras', 'headphones', 'keyboards']);
    expect(electronics.children.every((child) => child.parent.slug === 'electronics')).toBe(true);
  });

  it('hides stock internals from shoppers', async () => {
    const body = await gql<{ product: { stock: { available: number; onHand: number | null } } }>(
      `{ product(slug: "aurora-kettle") { stock { available onHand } } }`,
      {},
      CUSTOMER,
    );
    expect(body.data!.product.stock.available).toBeGreaterThanOrEqual(0);
    expect(body.data!.product.stock.onHand).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('answers bad listing input with BAD_USER_INPUT naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ first: 101 }, 'first'],
      [{ first: 5, filter: { minPriceCents: -1 } }, 'filter.minPriceCents'],
      [{ first: 5, filter: { minPriceCents: 500, maxPriceCents: 100 } }, 'filter.maxPriceCents'],
      [{ first: 5, filter: { categoryId: 'not-an-id' } }, 'filter.categoryId'],
      [{ first: 5, filter: { search: 'x'.repeat(201) } }, 'filter.search'],
    ];
    for (const [variables, field] of cases) {
      const body = await gql<List>(LIST, variables);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('answers an id that is not a UUID with BAD_USER_INPUT naming the argument, not a silent null', async () => {
    for (const query of [`{ product(id: "not-a-uuid") { id } }`, `{ category(id: "not-a-uuid") { id } }`]) {
      const body = await gql<Record<string, unknown>>(query);
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    }
    // A well-formed id that names nothing is still simply not found.
    const missing = await gql<{ product: null; category: null }>(
      `{ product(id: "00000000-0000-4000-8000-000000000000") { id } category(id: "00000000-0000-4000-8000-000000000000") { id } }`,
    );
    expect(missing).toEqual({ data: { product: null, category: null } });
  });

  it('finds a category by id or by slug (exactly one of them)', async () => {
    const bySlug = await gql<{ category: { id: string; name: string } }>(`{ category(slug: "kitchen") { id name } }`);
    const { id } = bySlug.data!.category;
    const byId = await gql<{ category: { id: string; name: string } }>(`query ($id: ID) { category(id: $id) { id name } }`, {
      id: id.toUpperCase(),
    });
    expect(byId.data!.category).toEqual(bySlug.data!.category);
    for (const query of [`{ category { id } }`, `query ($id: ID) { category(id: $id, slug: "kitchen") { id } }`]) {
      const body = await gql(query, { id });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    }
  });

  it('lists a category page in one request: Category.products is the products connection with the category fixed', async () => {
    const PAGE = `query ($slug: String, $first: Int, $after: String, $sort: ProductSort, $filter: ProductFilter) {
      category(slug: $slug) {
        id name
        products(first: $first, after: $after, sort: $sort, filter: $filter) {
          totalCount nodes { id category { slug } } pageInfo { hasNextPage endCursor }
        }
      }
    }`;
    type Page = {
      category: {
        id: string;
        products: {
          totalCount: number;
          nodes: { id: string; category: { slug: string } }[];
          pageInfo: List['products']['pageInfo'];
        };
      };
    };
    const home = (await gql<Page>(PAGE, { slug: 'home', first: 1 })).data!.category;
    for (const [sort, filter] of [
      ['PRICE_ASC', null],
      ['NAME', { inStock: true }],
      [null, { maxPriceCents: 5_000 }],
    ] as const) {
      const expected = await allPages({ sort, filter: { ...filter, categoryId: home.id } });
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 20; page++) {
        const body: { data?: Page; errors?: unknown[] } = await gql<Page>(PAGE, { slug: 'home', first: 15, after, sort, filter });
        expect(body.errors).toBeUndefined();
        const products = body.data!.category.products;
        expect(products.totalCount).toBe(expected.length);
        seen.push(...products.nodes.map((node) => node.id));
        if (!products.pageInfo.hasNextPage) break;
        after = products.pageInfo.endCursor;
      }
      expect(seen).toEqual(expected.map((node) => node.id));
    }
    expect(home.products.nodes[0]?.category.slug).toMatch(/^(kitchen|lighting)$/);

    const same = await gql<Page>(PAGE, { slug: 'home', first: 2, filter: { categoryId: home.id } });
    expect(same.errors).toBeUndefined();
    const cases: [Record<string, unknown>, string][] = [
      [{ first: 101 }, 'first'],
      [{ first: 2, filter: { categoryId: '00000000-0000-4000-8000-000000000000' } }, 'filter.categoryId'],
      [{ first: 2, filter: { categoryId: 'not-an-id' } }, 'filter.categoryId'],
      [{ first: 2, after: 'garbage' }, 'after'],
    ];
    for (const [variables, field] of cases) {
      const body = await gql<Page>(PAGE, { slug: 'home', ...variables });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
  });

  it('refuses a cursor from another sort order', async () => {
    const first = await gql<List>(LIST, { first: 2, sort: 'NAME' });
    const body = await gql<List>(LIST, { first: 2, sort: 'PRICE_ASC', after: first.data!.products.pageInfo.endCursor });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe('admin mutations', () => {
  const CREATE = `mutation Create($input: CreateProductInput!) { createProduct(input: $input) { ${PRODUCT_FIELDS} } }`;
  const UPDATE = `mutation Update($input: UpdateProductInput!) { updateProduct(input: $input) { ${PRODUCT_FIELDS} } }`;

  it('creates a category and a product in it, then edits, restocks and archives the product', async () => {
    const category = await gql<{ createCategory: { id: string; slug: string; parent: { slug: string } } }>(
      `mutation { createCategory(input: { name: "Tea Kettles", parentId: "${demoCatalog().categories.find((c) => c.slug === 'kitchen')!.id}" }) { id slug parent { slug } } }`,
      {},
      ADMIN,
    );
    expect(category.errors).toBeUndefined();
    expect(category.data!.createCategory).toMatchObject({ slug: 'tea-kettles', parent: { slug: 'kitchen' } });

    const created = await gql<{ createProduct: Record<string, unknown> & { id: string; version: number } }>(
      CREATE,
      {
        input: {
          sku: 'TEA-001',
          name: 'Gooseneck Tea Kettle',
          description: 'Pour-over precision.',
          priceCents: 5900,
          categoryId: category.data!.createCategory.id,
          images: [{ url: 'https://images.example.com/tea.jpg', alt: 'kettle' }],
          attributes: [{ name: 'Capacity', value: '1 l' }],
          initialStock: 5,
        },
      },
      ADMIN,
    );
    expect(created.errors).toBeUndefined();
    const product = created.data!.createProduct;
    expect(product).toMatchObject({
      slug: 'gooseneck-tea-kettle',
      status: 'ACTIVE',
      version: 1,
      price: { amountCents: 5900, currency: 'USD' },
      stock: { available: 5, onHand: 5, reserved: 0, inStock: true },
      category: { slug: 'tea-kettles' },
    });

    // Shoppers find it by category (including the parent's subtree) and by search.
    const kitchenId = demoCatalog().categories.find((c) => c.slug === 'kitchen')!.id;
    const inKitchen = await allPages({ filter: { categoryId: kitchenId, search: 'gooseneck' } });
    expect(inKitchen.map((node) => node.id)).toEqual([product.id]);

    const updated = await gql<{ updateProduct: { version: number; name: string; price: { amountCents: number } } }>(
      UPDATE,
      { input: { id: product.id, version: 1, name: 'Gooseneck Kettle', priceCents: 6400 } },
      ADMIN,
    );
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateProduct).toMatchObject({ version: 2, name: 'Gooseneck Kettle', price: { amountCents: 6400 } });

    const stale = await gql(UPDATE, { input: { id: product.id, version: 1, name: 'Lost update' } }, ADMIN);
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'version', currentVersion: 2 });

    const restocked = await gql<{ adjustStock: { stock: { onHand: number; available: number } } }>(
      `mutation { adjustStock(productId: "${product.id}", delta: 7, reason: "delivery") { stock { onHand available } } }`,
      {},
      ADMIN,
    );
    expect(restocked.data!.adjustStock.stock).toEqual({ onHand: 12, available: 12 });

    // A shopper's listing is cached by the gateway now...
    const beforeArchive = await gql<List>(LIST, { first: 10, filter: { search: 'gooseneck' } });
    expect(beforeArchive.data!.products.totalCount).toBe(1);

    const archived = await gql<{ archiveProduct: { status: string; version: number } }>(
      `mutation { archiveProduct(id: "${product.id}") { status version } }`,
      {},
      ADMIN,
    );
    expect(archived.data!.archiveProduct).toEqual({ status: 'ARCHIVED', version: 3 });

    const asShopper = await gql<{ product: null }>(`{ product(id: "${product.id}") { id } }`, {}, CUSTOMER);
    expect(asShopper.data!.product).toBeNull();
    // ...and ProductArchived, relayed from the outbox, purges it: the same query soon misses the product.
    expect(
      await eventually(
        async () => (await gql<List>(LIST, { first: 10, filter: { search: 'gooseneck' } })).data!.products.totalCount,
      ),
    ).toBe(0);
    const asAdmin = await gql<List>(LIST, { first: 10, filter: { search: 'gooseneck', includeArchived: true } }, ADMIN);
    expect(asAdmin.data!.products.nodes.map((node) => node.status)).toEqual(['ARCHIVED']);

    // Every change left its event in the outbox, in order.
    const events = await catalog.prisma.outboxEvent.findMany({
      where: { aggregateId: product.id },
      orderBy: { sequence: 'asc' },
    });
    expect(events.map((event) => event.type)).toEqual(['ProductCreated', 'ProductUpdated', 'StockChanged', 'ProductArchived']);
    expect(events.every((event) => event.topic === 'catalog.events')).toBe(true);
    expect((events[1]!.envelope as { payload: { changedFields: string[] } }).payload.changedFields.sort()).toEqual([
      'name',
      'price',
    ]);
    expect((events[2]!.envelope as { payload: Record<string, unknown> }).payload).toMatchObject({
      productId: product.id,
      onHand: 12,
      onHandDelta: 7,
      reason: 'ADJUSTMENT',
      note: 'delivery',
    });
  });

  it('refuses customers and anonymous callers', async () => {
    const mutation = `mutation { adjustStock(productId: "${demoCatalog().products[0]!.id}", delta: 1, reason: "x") { id } }`;
    expect((await gql(mutation, {}, CUSTOMER)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect((await gql(mutation)).errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    const includeArchived = await gql(LIST, { first: 1, filter: { includeArchived: true } }, CUSTOMER);
    expect(includeArchived.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('names the bad field of invalid input', async () => {
    const valid = { sku: 'OK-1', name: 'Fine', priceCents: 100 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...valid, priceCents: -5 }, 'priceCents'],
      [{ ...valid, slug: 'Not A Slug' }, 'slug'],
      [{ ...valid, name: '   ' }, 'name'],
      [{ ...valid, name: 'x'.repeat(201) }, 'name'],
      [{ ...valid, sku: 'bad sku!' }, 'sku'],
      [{ ...valid, currency: 'usd' }, 'currency'],
      [{ ...valid, images: [{ url: 'javascript:alert(1)' }] }, 'images[0].url'],
      [
        {
          ...valid,
          attributes: [
            { name: 'a', value: '1' },
            { name: 'A', value: '2' },
          ],
        },
        'attributes[1].name',
      ],
      [{ ...valid, initialStock: -1 }, 'initialStock'],
    ];
    for (const [input, field] of cases) {
      const body = await gql(CREATE, { input }, ADMIN);
      expect({ field, error: body.errors?.[0]?.extensions }).toMatchObject({ field, error: { code: 'BAD_USER_INPUT', field } });
    }
    const taken = await gql(CREATE, { input: { ...valid, sku: 'SKU-00001' } }, ADMIN);
    expect(taken.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'sku' });
  });

  it('refuses to take stock below what is reserved', async () => {
    const product = demoCatalog().products.find((p) => p.onHand === 3)!;
    const reserved = await catalog.stockReservations.reserve({
      orderId: 'order-below-reserved',
      lines: [{ productId: product.id, quantity: 2 }],
    });
    expect(reserved.status).toBe('RESERVED');
    const body = await gql(`mutation { adjustStock(productId: "${product.id}", delta: -2, reason: "count") { id } }`, {}, ADMIN);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_STOCK', field: 'delta', onHand: 3, reserved: 2 });
    await catalog.stockReservations.release('order-below-reserved');
  });
});

describe('federation', () => {
  async function subgraph<Data>(query: string, variables: Record<string, unknown>) {
    const response = await fetch(catalog.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...subgraphAccessHeaders('catalog') },
      body: JSON.stringify({ query, variables }),
    });
    return { headers: response.headers, body: (await response.json()) as { data?: Data; errors?: unknown[] } };
  }

  it('resolves Product and Category references in order, unknown ids as null', async () => {
    const products = demoCatalog().products.slice(0, 3);
    const { body } = await subgraph<{ _entities: ({ id: string; name: string } | null)[] }>(
      `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { id name } ... on Category { id slug } } }`,
      {
        representations: [
          ...products.map((p) => ({ __typename: 'Product', id: p.id })),
          { __typename: 'Product', id: 'not-a-uuid' },
          { __typename: 'Category', id: demoCatalog().categories[0]!.id },
        ],
      },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!._entities).toEqual([
      ...products.map((p) => ({ id: p.id, name: p.name })),
      null,
      { id: demoCatalog().categories[0]!.id, slug: 'electronics' },
    ]);
  });

  it('sends cache hints: public catalog data for minutes, stock for seconds', async () => {
    const catalogOnly = await subgraph(`{ products(first: 2) { nodes { name price { amountCents } } } }`, {});
    expect(catalogOnly.headers.get('cache-control')).toBe('max-age=60, public');
    const withStock = await subgraph(`{ products(first: 2) { nodes { name stock { available } } } }`, {});
    expect(withStock.headers.get('cache-control')).toBe('max-age=10, public');
  });
});

describe('stock reservations for the order saga', () => {
  const [first, second] = demoCatalog().products.filter((p) => p.onHand >= 10);

  it('reserves all lines at current prices, answers a redelivery the same, then releases once', async () => {
    const lines = [
      { productId: first!.id, quantity: 2 },
      { productId: second!.id, quantity: 1 },
      { productId: first!.id, quantity: 1 },
    ];
    const outcome = await catalog.stockReservations.reserve({ orderId: 'order-embedded-1', lines });
    expect(outcome).toMatchObject({
      status: 'RESERVED',
      replayed: false,
      total: { amountCents: first!.priceCents * 3 + second!.priceCents, currency: 'USD' },
    });
    const again = await catalog.stockReservations.reserve({ orderId: 'order-embedded-1', lines });
    expect(again).toEqual({ ...outcome, replayed: true });

    const stock = await catalog.prisma.stock.findUnique({ where: { productId: first!.id } });
    expect(stock).toMatchObject({ onHand: first!.onHand, reserved: 3 });

    expect(await catalog.stockReservations.release('order-embedded-1')).toMatchObject({ released: true });
    expect(await catalog.stockReservations.release('order-embedded-1')).toMatchObject({ released: false, status: 'RELEASED' });
    expect(await catalog.prisma.stock.findUnique({ where: { productId: first!.id } })).toMatchObject({ reserved: 0 });
  });

  it('rejects the whole order when one line cannot be served, and reserves nothing', async () => {
    const soldOut = demoCatalog().products.find((p) => p.onHand === 0)!;
    const outcome = await catalog.stockReservations.reserve({
      orderId: 'order-embedded-2',
      lines: [
        { productId: first!.id, quantity: 1 },
        { productId: soldOut.id, quantity: 1 },
      ],
    });
    expect(outcome).toMatchObject({
      status: 'REJECTED',
      rejection: { reason: 'INSUFFICIENT_STOCK', lines: [{ productId: soldOut.id, requested: 1, available: 0 }] },
    });
    expect(await catalog.prisma.stock.findUnique({ where: { productId: first!.id } })).toMatchObject({ reserved: 0 });
    const events = await catalog.prisma.outboxEvent.findMany({ where: { aggregateId: 'order-embedded-2' } });
    expect(events.map((event) => event.type)).toEqual(['StockRejected']);
  });

  it('commits on shipping: the units leave the shelf', async () => {
    await catalog.stockReservations.reserve({ orderId: 'order-embedded-3', lines: [{ productId: second!.id, quantity: 4 }] });
    expect(await catalog.stockReservations.commit('order-embedded-3')).toMatchObject({ committed: true });
    expect(await catalog.stockReservations.commit('order-embedded-3')).toMatchObject({ committed: false });
    expect(await catalog.prisma.stock.findUnique({ where: { productId: second!.id } })).toMatchObject({
      onHand: second!.onHand - 4,
      reserved: 0,
    });
  });
});
