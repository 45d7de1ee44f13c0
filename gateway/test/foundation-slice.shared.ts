import { startTestStack, type TestStack } from '@commerce/testkit';

const PAGE = `query Page($first: Int, $after: String) {
  products(first: $first, after: $after) {
    totalCount
    nodes { id name price { amountCents currency } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Page {
  products: {
    totalCount: number;
    nodes: { id: string; name: string; price: { amountCents: number; currency: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

/** The foundation's vertical slice: products through the gateway from the catalog's Prisma repository. */
export function productsSliceSuite(database: 'pglite' | 'postgres') {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ database, seed: true });
  }, 180_000);
  afterAll(() => stack?.stop());

  it('walks every page of the demo catalog without duplicates or gaps', async () => {
    const seen = new Set<string>();
    let after: string | null = null;
    let total = 0;
    for (let page = 0; page < 20; page++) {
      const { status, body } = await stack.query<Page>(PAGE, { first: 50, after });
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      const products: Page['products'] = body.data!.products;
      total = products.totalCount;
      for (const node of products.nodes) {
        expect(seen.has(node.id)).toBe(false);
        seen.add(node.id);
        expect(Number.isInteger(node.price.amountCents)).toBe(true);
      }
      if (!products.pageInfo.hasNextPage) break;
      after = products.pageInfo.endCursor;
    }
    expect(total).toBeGreaterThanOrEqual(200);
    expect(seen.size).toBe(total);
  });

  it('refuses a page larger than the maximum with BAD_USER_INPUT naming `first`', async () => {
    const { body } = await stack.query(PAGE, { first: 1000 });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('refuses a forged cursor with BAD_USER_INPUT, not a crash', async () => {
    const { body } = await stack.query(PAGE, { first: 5, after: 'bm90LWEtY3Vyc29y' });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
  });
}
