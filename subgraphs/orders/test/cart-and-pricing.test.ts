import { DomainError } from '@commerce/platform/errors';
import { addLine, clearLines, emptyCart, removeLine, setLineQuantity, totalQuantity, type Cart } from '../src/domain/cart.ts';
import { validateRequestedLines, MAX_LINES } from '../src/domain/order-lines.ts';
import { applyPrices, newOrder, validateReason, type Order } from '../src/domain/order.ts';
import { SAMPLE_SHIPPING_ADDRESS } from './support/shipping-address.ts';

const at = new Date('2026-03-01T10:00:00Z');

function errorOf(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe('cart rules', () => {
  const cart = (...lines: [string, number][]): Cart => ({
    userId: 'u',
    lines: lines.map(([productId, quantity]) => ({ productId, quantity, addedAt: at })),
    updatedAt: at,
  });

  it('adds a new product and adds to the quantity of one already in the cart', () => {
    const once = addLine(emptyCart('u'), 'p1', 2, at);
    const twice = addLine(once, 'p1', 3, at);
    expect(twice.lines).toEqual([{ productId: 'p1', quantity: 5, addedAt: at }]);
    expect(totalQuantity(addLine(twice, 'p2', 1, at))).toBe(6);
  });

  it.each([0, -1, 100, 1.5, Number.NaN])('refuses quantity %p naming the field', (quantity) => {
    const error = errorOf(() => addLine(emptyCart('u'), 'p1', quantity, at));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.details).toEqual({ field: 'quantity' });
  });

  it('accepts the bounds 1 and 99 but not a sum above 99', () => {
    expect(addLine(emptyCart('u'), 'p1', 1, at).lines[0]!.quantity).toBe(1);
    expect(addLine(emptyCart('u'), 'p1', 99, at).lines[0]!.quantity).toBe(99);
    const error = errorOf(() => addLine(cart(['p1', 60]), 'p1', 40, at));
    expect([error.code, error.details.field]).toEqual(['BAD_USER_INPUT', 'quantity']);
  });

  it('holds at most 50 different products', () => {
    let full = emptyCart('u');
    for (let index = 0; index < MAX_LINES; index++) full = addLine(full, `p${index}`, 1, at);
    expect(errorOf(() => addLine(full, 'one-more', 1, at)).details).toEqual({ field: 'productId' });
    expect(addLine(full, 'p0', 1, at).lines[0]!.quantity).toBe(2);
  });

  it('sets a quantity only for a product in the cart', () => {
    expect(setLineQuantity(cart(['p1', 1]), 'p1', 7, at).lines[0]!.quantity).toBe(7);
    expect(errorOf(() => setLineQuantity(cart(['p1', 1]), 'p2', 7, at)).code).toBe('NOT_FOUND');
    expect(errorOf(() => setLineQuantity(cart(['p1', 1]), 'p1', 0, at)).details).toEqual({ field: 'quantity' });
  });

  it('removes and clears; removing a missing product changes nothing', () => {
    const before = cart(['p1', 1], ['p2', 2]);
    expect(removeLine(before, 'p1', at).lines.map((line) => line.productId)).toEqual(['p2']);
    expect(removeLine(before, 'p9', at)).toBe(before);
    expect(clearLines(before, at).lines).toEqual([]);
  });
});

describe('order lines from clients (placeOrder)', () => {
  it('needs at least one line, each product once, quantities in range', () => {
    expect(errorOf(() => validateRequestedLines([])).details).toEqual({ field: 'lines' });
    expect(
      errorOf(() =>
        validateRequestedLines([
          { productId: 'a', quantity: 1 },
          { productId: 'a', quantity: 2 },
        ]),
      ).details,
    ).toEqual({ field: 'lines[1].productId' });
    expect(errorOf(() => validateRequestedLines([{ productId: 'a', quantity: 100 }])).details).toEqual({
      field: 'lines[0].quantity',
    });
    expect(errorOf(() => validateRequestedLines([{ productId: '  ', quantity: 1 }])).details).toEqual({
      field: 'lines[0].productId',
    });
    expect(validateRequestedLines([{ productId: ' a ', quantity: 3 }])).toEqual([{ productId: 'a', quantity: 3 }]);
  });

  it('limits the cancel reason', () => {
    expect(validateReason('  ')).toBeNull();
    expect(validateReason(' changed my mind ')).toBe('changed my mind');
    expect(errorOf(() => validateReason('x'.repeat(501))).details).toEqual({ field: 'reason' });
  });
});

describe('prices confirmed by the catalog', () => {
  const order: Order = {
    ...newOrder({
      id: 'a0a0a0a0-0000-4000-8000-000000000001',
      userId: 'u',
      lines: [
        { productId: 'p1', quantity: 2 },
        { productId: 'p2', quantity: 1 },
      ],
      paymentMethodId: 'pm',
      shippingAddressId: 'addr',
      shippingAddress: SAMPLE_SHIPPING_ADDRESS,
      actor: { type: 'CUSTOMER', id: 'u' },
      at,
    }),
    number: 1,
  };
  const usd = (amountCents: number) => ({ amountCents, currency: 'USD' });
  const priced = [
    { productId: 'p2', quantity: 1, unitPrice: usd(500) },
    { productId: 'p1', quantity: 2, unitPrice: usd(1250) },
  ];

  it('fills unit prices, subtotal and total; the same prices again change nothing', () => {
    const first = applyPrices(order, priced, usd(3000), at);
    expect(first.changed).toBe(true);
    expect(first.order.lines.map((line) => line.unitPriceCents)).toEqual([1250, 500]);
    expect(first.order.pricing).toEqual({ currency: 'USD', subtotalCents: 3000, totalCents: 3000 });
    const again = applyPrices(first.order, priced, usd(3000), at);
    expect(again).toEqual({ order: first.order, changed: false });
  });

  it('refuses lines that do not match the order, other currencies, and re-pricing', () => {
    expect(errorOf(() => applyPrices(order, priced.slice(0, 1), usd(500), at)).code).toBe('CONFLICT');
    expect(errorOf(() => applyPrices(order, [priced[0]!, { ...priced[1]!, quantity: 3 }], usd(4250), at)).code).toBe('CONFLICT');
    expect(errorOf(() => applyPrices(order, priced, { amountCents: 3000, currency: 'EUR' }, at)).code).toBe('CONFLICT');
    const first = applyPrices(order, priced, usd(3000), at).order;
    expect(errorOf(() => applyPrices(first, [priced[0]!, { ...priced[1]!, unitPrice: usd(1) }], usd(502), at)).code).toBe(
      'CONFLICT',
    );
  });
});
