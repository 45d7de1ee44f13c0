import { wouldCreateCycle } from '../src/domain/category.ts';
import { stockChanges } from '../src/domain/events.ts';
import { effectiveSort } from '../src/domain/listing.ts';
import { effectiveChanges, slugify, type ProductDetails } from '../src/domain/product.ts';
import {
  committedStock,
  mergeLines,
  planReservation,
  releasedStock,
  type StockForReservation,
} from '../src/domain/reservation.ts';
import { adjustOnHand, availableUnits, isInStock } from '../src/domain/stock.ts';

const usd = (amountCents: number) => ({ amountCents, currency: 'USD' });

describe('stock', () => {
  it('counts only unreserved units as available', () => {
    expect(availableUnits({ onHand: 10, reserved: 4 })).toBe(6);
    expect(isInStock({ onHand: 4, reserved: 4 })).toBe(false);
    expect(isInStock({ onHand: 5, reserved: 4 })).toBe(true);
  });

  it('adjusts on hand up and down, but never below what is reserved', () => {
    expect(adjustOnHand({ onHand: 10, reserved: 4 }, 5)).toEqual({ ok: true, stock: { onHand: 15, reserved: 4 } });
    expect(adjustOnHand({ onHand: 10, reserved: 4 }, -6)).toEqual({ ok: true, stock: { onHand: 4, reserved: 4 } });
    expect(adjustOnHand({ onHand: 10, reserved: 4 }, -7)).toMatchObject({ ok: false, reason: 'BELOW_RESERVED' });
    expect(adjustOnHand({ onHand: 3, reserved: 0 }, -4)).toMatchObject({ ok: false });
  });
});

describe('reservation planning', () => {
  const locked = (entries: (Partial<StockForReservation> & { productId: string })[]) =>
    new Map(
      entries.map((entry) => [
        entry.productId,
        { status: 'ACTIVE' as const, price: usd(500), stock: { onHand: 10, reserved: 0 }, ...entry },
      ]),
    );

  it('merges repeated products and sorts lines by product id (the lock order)', () => {
    expect(
      mergeLines([
        { productId: 'b', quantity: 1 },
        { productId: 'a', quantity: 2 },
        { productId: 'b', quantity: 3 },
      ]),
    ).toEqual([
      { productId: 'a', quantity: 2 },
      { productId: 'b', quantity: 4 },
    ]);
  });

  it('prices every line and reserves the units', () => {
    const plan = planReservation(
      [
        { productId: 'a', quantity: 2 },
        { productId: 'b', quantity: 1 },
      ],
      locked([
        { productId: 'a', price: usd(1250) },
        { productId: 'b', stock: { onHand: 1, reserved: 0 } },
      ]),
    );
    expect(plan).toEqual({
      ok: true,
      lines: [
        { productId: 'a', quantity: 2, unitPrice: usd(1250), lineTotal: usd(2500) },
        { productId: 'b', quantity: 1, unitPrice: usd(500), lineTotal: usd(500) },
      ],
      total: usd(3000),
      stock: new Map([
        ['a', { onHand: 10, reserved: 2 }],
        ['b', { onHand: 1, reserved: 1 }],
      ]),
    });
  });

  it('rejects everything when one line lacks units, naming what is short', () => {
    const plan = planReservation(
      [
        { productId: 'a', quantity: 1 },
        { productId: 'b', quantity: 3 },
      ],
      locked([{ productId: 'a' }, { productId: 'b', stock: { onHand: 5, reserved: 3 } }]),
    );
    expect(plan).toEqual({
      ok: false,
      rejection: { reason: 'INSUFFICIENT_STOCK', lines: [{ productId: 'b', requested: 3, available: 2 }] },
    });
  });

  it('rejects unknown and archived products as unavailable', () => {
    const plan = planReservation(
      [
        { productId: 'gone', quantity: 1 },
        { productId: 'old', quantity: 1 },
      ],
      locked([{ productId: 'old', status: 'ARCHIVED' }]),
    );
    expect(plan).toMatchObject({ ok: false, rejection: { reason: 'PRODUCT_UNAVAILABLE' } });
    expect(!plan.ok && plan.rejection.lines.map((line) => line.productId)).toEqual(['gone', 'old']);
  });

  it('refuses to total prices in different currencies', () => {
    const plan = planReservation(
      [
        { productId: 'a', quantity: 1 },
        { productId: 'b', quantity: 1 },
      ],
      locked([{ productId: 'a' }, { productId: 'b', price: { amountCents: 500, currency: 'EUR' } }]),
    );
    expect(plan).toMatchObject({ ok: false, rejection: { reason: 'MIXED_CURRENCIES' } });
  });

  it('releases and commits exactly what was reserved', () => {
    const lines = [{ productId: 'a', quantity: 3, unitPrice: usd(1), lineTotal: usd(3) }];
    const current = new Map([['a', { onHand: 10, reserved: 5 }]]);
    expect(releasedStock(lines, current).get('a')).toEqual({ onHand: 10, reserved: 2 });
    expect(committedStock(lines, current).get('a')).toEqual({ onHand: 7, reserved: 2 });
  });
});

describe('products', () => {
  const details: ProductDetails = {
    sku: 'A-1',
    slug: 'a',
    name: 'A',
    description: '',
    price: usd(100),
    images: [],
    attributes: [{ name: 'Color', value: 'Red' }],
    categoryId: null,
  };

  it('keeps only the fields that really change', () => {
    expect(effectiveChanges(details, { name: 'A', price: usd(100), attributes: [{ name: 'Color', value: 'Red' }] })).toEqual({});
    expect(effectiveChanges(details, { name: 'B', price: usd(100), categoryId: null })).toEqual({ name: 'B' });
    expect(effectiveChanges(details, { price: { amountCents: 100, currency: 'EUR' } })).toEqual({
      price: { amountCents: 100, currency: 'EUR' },
    });
  });

  it('derives slugs from names', () => {
    expect(slugify('  Crème Brûlée Torch 2000! ')).toBe('creme-brulee-torch-2000');
    expect(slugify('Home & Kitchen')).toBe('home-kitchen');
  });
});

describe('listing', () => {
  it('orders a search by relevance and everything else newest first, unless told otherwise', () => {
    expect(effectiveSort(null, 'kettle')).toBe('RELEVANCE');
    expect(effectiveSort(null, null)).toBe('NEWEST');
    expect(effectiveSort('RELEVANCE', null)).toBe('NEWEST');
    expect(effectiveSort('PRICE_ASC', 'kettle')).toBe('PRICE_ASC');
  });
});

describe('category tree', () => {
  it('refuses to move a category under itself or its descendants', () => {
    expect(wouldCreateCycle('a', 'a', [])).toBe(true);
    expect(wouldCreateCycle('a', 'grandchild', ['child', 'a'])).toBe(true);
    expect(wouldCreateCycle('a', 'sibling', ['root'])).toBe(false);
    expect(wouldCreateCycle('a', null, [])).toBe(false);
  });
});

describe('stock events', () => {
  it('describes every product whose level moved, and only those', () => {
    const before = new Map([
      ['a', { onHand: 10, reserved: 0 }],
      ['b', { onHand: 5, reserved: 1 }],
    ]);
    const after = new Map([
      ['a', { onHand: 10, reserved: 2 }],
      ['b', { onHand: 5, reserved: 1 }],
    ]);
    expect(stockChanges(before, after, 'RESERVATION', { orderId: 'o-1' })).toEqual([
      {
        type: 'StockChanged',
        payload: {
          productId: 'a',
          onHand: 10,
          reserved: 2,
          available: 8,
          onHandDelta: 0,
          reservedDelta: 2,
          reason: 'RESERVATION',
          orderId: 'o-1',
        },
      },
    ]);
  });
});
