import { DomainError, type Viewer } from '@commerce/platform';
import { adjustStock } from '../src/application/adjust-stock.ts';
import { archiveProduct } from '../src/application/archive-product.ts';
import { createCategory } from '../src/application/create-category.ts';
import { createProduct } from '../src/application/create-product.ts';
import { updateCategory } from '../src/application/update-category.ts';
import { updateProduct } from '../src/application/update-product.ts';
import { InMemoryCatalogStore } from './in-memory-catalog-store.ts';

const admin: Viewer = { userId: 'admin-1', role: 'ADMIN' };
const customer: Viewer = { userId: 'customer-1', role: 'CUSTOMER' };
const KITCHEN = '00000000-0000-4000-8000-000000000001';
const KETTLE = '00000000-0000-4000-8000-0000000000aa';
const cause = { correlationId: 'request-1', traceparent: null };

/** Runs `action` and returns the DomainError it threw (fails the test if it threw nothing else). */
async function domainError(action: () => Promise<unknown>): Promise<DomainError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}

let store: InMemoryCatalogStore;
beforeEach(() => {
  store = new InMemoryCatalogStore();
  store.addCategory({ id: KITCHEN, slug: 'kitchen' });
  store.addProduct({ id: KETTLE, sku: 'KET-1', slug: 'kettle', version: 3, stock: { onHand: 10, reserved: 4 } });
});

describe('createProduct', () => {
  it('creates an active product with its stock, derives the slug, and emits ProductCreated', async () => {
    const product = await createProduct(
      store,
      admin,
      { sku: 'TEA-1', name: 'Green Tea Tin', priceCents: 899, categoryId: KITCHEN, initialStock: 12 },
      cause,
    );
    expect(product).toMatchObject({
      slug: 'green-tea-tin',
      status: 'ACTIVE',
      version: 1,
      price: { amountCents: 899, currency: 'USD' },
    });
    expect(product.stock).toEqual({ onHand: 12, reserved: 0 });
    expect(store.state.adjustments).toEqual([
      { productId: product.id, delta: 12, reason: 'initial stock', actorId: 'admin-1', onHand: 12 },
    ]);
    expect(store.state.events).toEqual([
      {
        event: { type: 'ProductCreated', payload: expect.objectContaining({ productId: product.id, sku: 'TEA-1', onHand: 12 }) },
        cause,
      },
    ]);
  });

  it('is for admins only', async () => {
    expect((await domainError(() => createProduct(store, customer, { sku: 'X', name: 'X', priceCents: 1 }))).code).toBe(
      'FORBIDDEN',
    );
    expect((await domainError(() => createProduct(store, null, { sku: 'X', name: 'X', priceCents: 1 }))).code).toBe(
      'UNAUTHENTICATED',
    );
    expect(store.events).toEqual([]);
  });

  it('refuses a taken sku or slug and an unknown category, naming the field', async () => {
    const taken = await domainError(() => createProduct(store, admin, { sku: 'KET-1', name: 'Another', priceCents: 1 }));
    expect(taken).toMatchObject({ code: 'CONFLICT', details: { field: 'sku' } });
    const slug = await domainError(() => createProduct(store, admin, { sku: 'NEW-1', name: 'Kettle', priceCents: 1 }));
    expect(slug).toMatchObject({ code: 'CONFLICT', details: { field: 'slug' } });
    const category = await domainError(() =>
      createProduct(store, admin, {
        sku: 'NEW-1',
        name: 'New',
        priceCents: 1,
        categoryId: '00000000-0000-4000-8000-000000000999',
      }),
    );
    expect(category).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'categoryId' } });
    expect(store.state.products.size).toBe(1);
  });
});

describe('updateProduct', () => {
  it('applies only what changed, bumps the version and emits ProductUpdated', async () => {
    const updated = await updateProduct(
      store,
      admin,
      { id: KETTLE, version: 3, name: 'Steel Kettle', priceCents: 1000, description: '' },
      cause,
    );
    expect(updated).toMatchObject({ name: 'Steel Kettle', version: 4 });
    expect(store.events).toEqual([
      {
        type: 'ProductUpdated',
        payload: expect.objectContaining({
          productId: KETTLE,
          version: 4,
          changedFields: ['name'],
          changes: { name: 'Steel Kettle' },
        }),
      },
    ]);
  });

  it('changes nothing (no version, no event) when nothing differs', async () => {
    const same = await updateProduct(store, admin, { id: KETTLE, version: 3, slug: 'kettle' });
    expect(same.version).toBe(3);
    expect(store.events).toEqual([]);
  });

  it('refuses a stale version with CONFLICT and the current version', async () => {
    const error = await domainError(() => updateProduct(store, admin, { id: KETTLE, version: 2, name: 'Lost update' }));
    expect(error).toMatchObject({ code: 'CONFLICT', details: { field: 'version', currentVersion: 3 } });
    expect(store.state.products.get(KETTLE)!.name).toBe('kettle');
  });

  it('refuses null on a field that cannot be cleared, but clears the category', async () => {
    expect(await domainError(() => updateProduct(store, admin, { id: KETTLE, version: 3, name: null }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { field: 'name' },
    });
    await updateProduct(store, admin, { id: KETTLE, version: 3, categoryId: KITCHEN });
    const cleared = await updateProduct(store, admin, { id: KETTLE, version: 4, categoryId: null });
    expect(cleared.categoryId).toBeNull();
  });

  it('is NOT_FOUND for an unknown product', async () => {
    const error = await domainError(() =>
      updateProduct(store, admin, { id: '00000000-0000-4000-8000-000000000123', version: 1, name: 'x' }),
    );
    expect(error.code).toBe('NOT_FOUND');
  });
});

describe('archiveProduct', () => {
  it('archives once and emits ProductArchived once', async () => {
    expect((await archiveProduct(store, admin, { id: KETTLE })).status).toBe('ARCHIVED');
    expect((await archiveProduct(store, admin, { id: KETTLE })).version).toBe(4);
    expect(store.events.map((event) => event.type)).toEqual(['ProductArchived']);
  });
});

describe('adjustStock', () => {
  it('adds and removes units on hand, records who and why, and emits StockChanged', async () => {
    const product = await adjustStock(store, admin, { productId: KETTLE, delta: -6, reason: 'stock count' }, cause);
    expect(product.stock).toEqual({ onHand: 4, reserved: 4 });
    expect(store.state.adjustments).toEqual([
      { productId: KETTLE, delta: -6, reason: 'stock count', actorId: 'admin-1', onHand: 4 },
    ]);
    expect(store.events).toEqual([
      {
        type: 'StockChanged',
        payload: {
          productId: KETTLE,
          onHand: 4,
          reserved: 4,
          available: 0,
          onHandDelta: -6,
          reservedDelta: 0,
          reason: 'ADJUSTMENT',
          note: 'stock count',
        },
      },
    ]);
  });

  it('refuses to go below the reserved units', async () => {
    const error = await domainError(() => adjustStock(store, admin, { productId: KETTLE, delta: -7, reason: 'breakage' }));
    expect(error).toMatchObject({ code: 'INSUFFICIENT_STOCK', details: { field: 'delta', onHand: 10, reserved: 4 } });
    expect(store.state.products.get(KETTLE)!.stock).toEqual({ onHand: 10, reserved: 4 });
    expect(store.events).toEqual([]);
  });

  it('validates its arguments', async () => {
    expect(await domainError(() => adjustStock(store, admin, { productId: KETTLE, delta: 0, reason: 'x' }))).toMatchObject({
      details: { field: 'delta' },
    });
    expect(await domainError(() => adjustStock(store, admin, { productId: KETTLE, delta: 1, reason: ' ' }))).toMatchObject({
      details: { field: 'reason' },
    });
    expect(await domainError(() => adjustStock(store, admin, { productId: 'nope', delta: 1, reason: 'x' }))).toMatchObject({
      details: { field: 'productId' },
    });
    expect((await domainError(() => adjustStock(store, customer, { productId: KETTLE, delta: 1, reason: 'x' }))).code).toBe(
      'FORBIDDEN',
    );
  });
});

describe('categories', () => {
  it('creates subcategories and keeps the tree a tree', async () => {
    const tea = await createCategory(store, admin, { name: 'Tea', parentId: KITCHEN });
    const green = await createCategory(store, admin, { name: 'Green Tea', parentId: tea.id });
    expect(green).toMatchObject({ slug: 'green-tea', parentId: tea.id });

    const cycle = await domainError(() => updateCategory(store, admin, { id: KITCHEN, parentId: green.id }));
    expect(cycle).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'parentId' } });
    const self = await domainError(() => updateCategory(store, admin, { id: tea.id, parentId: tea.id }));
    expect(self).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'parentId' } });

    const moved = await updateCategory(store, admin, { id: green.id, parentId: null, name: 'Green' });
    expect(moved).toMatchObject({ parentId: null, name: 'Green', slug: 'green-tea' });
    expect(await domainError(() => updateCategory(store, admin, { id: tea.id, slug: 'kitchen' }))).toMatchObject({
      code: 'CONFLICT',
      details: { field: 'slug' },
    });
  });
});

describe('card numbers in catalog text', () => {
  const CARD = '4242 4242 4242 4242';
  const base = { sku: 'MUG-1', name: 'Mug', priceCents: 500 };

  it.each([
    ['name', { name: `Mug ${CARD}` }],
    ['description', { description: `Call 555-0100 or pay with ${CARD}` }],
    ['sku', { sku: '4242424242424242' }],
    ['slug', { slug: '4242-4242-4242-4242' }],
    ['images[0].alt', { images: [{ url: 'https://example.com/mug.jpg', alt: CARD }] }],
    ['images[0].url', { images: [{ url: `https://example.com/mug.jpg?card=${CARD.replaceAll(' ', '')}`, alt: '' }] }],
    ['attributes[0].name', { attributes: [{ name: CARD, value: 'x' }] }],
    ['attributes[0].value', { attributes: [{ name: 'Note', value: CARD }] }],
  ])('refuses one in a new product’s %s, storing and publishing nothing', async (field, input) => {
    const error = await domainError(() => createProduct(store, admin, { ...base, ...input }, cause));
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', details: { field } });
    expect(error.message).not.toContain('4242');
    expect(store.state.events).toEqual([]);
  });

  it('refuses one in product updates, stock reasons and categories', async () => {
    const update = await domainError(() => updateProduct(store, admin, { id: KETTLE, version: 3, description: CARD }, cause));
    expect(update).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'description' } });
    const stock = await domainError(() => adjustStock(store, admin, { productId: KETTLE, delta: 1, reason: `refund ${CARD}` }));
    expect(stock).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'reason' } });
    const category = await domainError(() => createCategory(store, admin, { name: 'Cards', description: CARD }));
    expect(category).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'description' } });
    const renamed = await domainError(() => updateCategory(store, admin, { id: KITCHEN, name: CARD }));
    expect(renamed).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'name' } });
    expect(store.state.events).toEqual([]);
    expect(store.state.adjustments).toEqual([]);
  });

  it('keeps barcodes, model numbers and ordinary figures', async () => {
    const product = await createProduct(
      store,
      admin,
      {
        ...base,
        description: 'Holds 350 ml. Model 2024-11, EAN 4006381333924',
        attributes: [{ name: 'EAN', value: '4006381333924' }],
      },
      cause,
    );
    expect(product.attributes).toEqual([{ name: 'EAN', value: '4006381333924' }]);
  });
});
