import { encodeCursor } from '@commerce/platform';
import { findProduct } from '../src/application/find-product.ts';
import { listProducts } from '../src/application/list-products.ts';
import type { Product } from '../src/domain/product.ts';
import type { ListedProduct, ProductPageQuery, ProductRepository } from '../src/ports/product-repository.ts';

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function product(n: number, status: Product['status'] = 'ACTIVE'): Product {
  return {
    id: ID(n),
    sku: `S-${n}`,
    slug: `p-${n}`,
    name: `P ${n}`,
    description: '',
    price: { amountCents: 100 * n, currency: 'USD' },
    images: [],
    attributes: [],
    categoryId: null,
    status,
    version: 1,
    stock: { onHand: 1, reserved: 0 },
    createdAt: new Date(Date.UTC(2026, 0, n)),
    updatedAt: new Date(Date.UTC(2026, 0, n)),
  };
}

/** Records the queries it receives and answers with a fixed list of rows. */
class RecordingRepository implements ProductRepository {
  queries: ProductPageQuery[] = [];
  constructor(private readonly rows: Product[]) {}
  async page(query: ProductPageQuery): Promise<ListedProduct[]> {
    this.queries.push(query);
    return this.rows
      .slice(0, query.limit)
      .map((p) => ({ product: p, position: { sort: 'PRICE_ASC', priceCents: p.price.amountCents, id: p.id } }));
  }
  async count(): Promise<number> {
    return this.rows.length;
  }
  async findByIds(ids: readonly string[]): Promise<Product[]> {
    return this.rows.filter((p) => ids.includes(p.id));
  }
  async findBySlug(slug: string): Promise<Product | null> {
    return this.rows.find((p) => p.slug === slug) ?? null;
  }
}

describe('listProducts', () => {
  it('asks for one row more than the page to know whether another page follows', async () => {
    const repository = new RecordingRepository([product(1), product(2), product(3)]);
    const connection = await listProducts(repository, null, { first: 2, sort: 'PRICE_ASC' });
    expect(repository.queries[0]).toMatchObject({ limit: 3, sort: 'PRICE_ASC', after: null });
    expect(connection.nodes.map((p) => p.id)).toEqual([ID(1), ID(2)]);
    expect(connection.pageInfo.hasNextPage).toBe(true);
    expect(await connection.totalCount()).toBe(3);
  });

  it('hands the decoded cursor of the same sort back to the repository', async () => {
    const repository = new RecordingRepository([product(1), product(2)]);
    const first = await listProducts(repository, null, { first: 1, sort: 'PRICE_ASC' });
    await listProducts(repository, null, { first: 1, sort: 'PRICE_ASC', after: first.pageInfo.endCursor });
    expect(repository.queries[1]!.after).toEqual({ sort: 'PRICE_ASC', priceCents: 100, id: ID(1) });
  });

  it('refuses cursors of another sort or with a wrong shape', async () => {
    const repository = new RecordingRepository([]);
    const nameCursor = encodeCursor({ sort: 'NAME', name: 'x', id: ID(1) });
    await expect(listProducts(repository, null, { sort: 'PRICE_ASC', after: nameCursor })).rejects.toMatchObject({
      details: { field: 'after' },
    });
    const badPrice = encodeCursor({ sort: 'PRICE_ASC', priceCents: 'cheap', id: ID(1) });
    await expect(listProducts(repository, null, { sort: 'PRICE_ASC', after: badPrice })).rejects.toMatchObject({
      details: { field: 'after' },
    });
    const injected = encodeCursor({ sort: 'NEWEST', createdAt: '2026-01-01T00:00:00Z', id: "1' OR 1=1 --" });
    await expect(listProducts(repository, null, { after: injected })).rejects.toMatchObject({ details: { field: 'after' } });
    expect(repository.queries).toHaveLength(0);
  });

  it('normalizes the filter: trimmed search, relevance by default for a search', async () => {
    const repository = new RecordingRepository([]);
    await listProducts(repository, null, { filter: { search: '  kettle  ', inStock: true, minPriceCents: 0 } });
    expect(repository.queries[0]).toMatchObject({
      sort: 'RELEVANCE',
      filter: {
        search: 'kettle',
        inStock: true,
        minPriceCents: 0,
        maxPriceCents: null,
        categoryId: null,
        includeArchived: false,
      },
    });
    await listProducts(repository, null, { filter: { search: '   ' } });
    expect(repository.queries[1]).toMatchObject({ sort: 'NEWEST', filter: { search: null } });
  });

  it('lets only admins include archived products', async () => {
    const repository = new RecordingRepository([]);
    await expect(
      listProducts(repository, { userId: 'c', role: 'CUSTOMER' }, { filter: { includeArchived: true } }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await listProducts(repository, { userId: 'a', role: 'ADMIN' }, { filter: { includeArchived: true } });
    expect(repository.queries[0]!.filter.includeArchived).toBe(true);
  });
});

describe('findProduct', () => {
  const repository = new RecordingRepository([product(1), product(2, 'ARCHIVED')]);
  const byId = async (id: string) => (await repository.findByIds([id]))[0] ?? null;

  it('needs exactly one of id and slug', async () => {
    await expect(findProduct(repository, byId, null, {})).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(findProduct(repository, byId, null, { id: ID(1), slug: 'p-1' })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
  });

  it('shows archived products to admins only', async () => {
    expect(await findProduct(repository, byId, null, { slug: 'p-1' })).toMatchObject({ id: ID(1) });
    expect(await findProduct(repository, byId, { userId: 'c', role: 'CUSTOMER' }, { id: ID(2) })).toBeNull();
    expect(await findProduct(repository, byId, { userId: 'a', role: 'ADMIN' }, { id: ID(2) })).toMatchObject({
      status: 'ARCHIVED',
    });
  });

  it('refuses an id that is not a UUID (BAD_USER_INPUT naming it) before any lookup; a UUID that names nothing is null', async () => {
    let lookups = 0;
    const counting = (id: string) => (lookups++, byId(id));
    await expect(findProduct(repository, counting, null, { id: 'DROP TABLE products' })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'id' },
    });
    expect(lookups).toBe(0);
    expect(await findProduct(repository, counting, null, { id: '00000000-0000-4000-8000-000000000000' })).toBeNull();
  });
});
