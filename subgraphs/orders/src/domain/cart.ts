import { badInput, DomainError, notFound } from '@commerce/platform/errors';
import { ORDER_CURRENCY, type Money } from './money.ts';
import { MAX_LINE_QUANTITY, MAX_LINES, validateProductId, validateQuantity, type RequestedLine } from './order-lines.ts';

/** A user's server-side cart: product references and quantities only (names and prices stay in the catalog). */
export interface CartLine {
  productId: string;
  quantity: number;
  addedAt: Date;
}

export interface Cart {
  userId: string;
  lines: CartLine[];
  updatedAt: Date | null;
}

export const emptyCart = (userId: string): Cart => ({ userId, lines: [], updatedAt: null });

export const totalQuantity = (cart: Cart) => cart.lines.reduce((sum, line) => sum + line.quantity, 0);

export const requestedLines = (cart: Cart): RequestedLine[] =>
  cart.lines.map(({ productId, quantity }) => ({ productId, quantity }));

/** Adding a product already in the cart adds to its quantity, which still may not exceed the maximum. */
export function addLine(cart: Cart, productId: string, quantity: number, at: Date): Cart {
  validateProductId(productId);
  validateQuantity(quantity);
  const existing = cart.lines.find((line) => line.productId === productId);
  if (existing) {
    const combined = existing.quantity + quantity;
    if (combined > MAX_LINE_QUANTITY) {
      throw badInput('quantity', `A cart line holds at most ${MAX_LINE_QUANTITY} (already ${existing.quantity} in the cart)`);
    }
    return {
      ...cart,
      lines: cart.lines.map((line) => (line === existing ? { ...line, quantity: combined } : line)),
      updatedAt: at,
    };
  }
  if (cart.lines.length >= MAX_LINES) throw badInput('productId', `A cart holds at most ${MAX_LINES} different products`);
  return { ...cart, lines: [...cart.lines, { productId, quantity, addedAt: at }], updatedAt: at };
}

/**
 * The early, honest answer at add-to-cart time: a line may not ask for more than the catalog has available
 * right now (`extensions.available` says how many). Reserving the stock at checkout stays the guarantee.
 */
export function requireInStock(cart: Cart, product: { id: string; available: number }): void {
  const line = cart.lines.find((candidate) => candidate.productId === product.id);
  if (line && line.quantity > product.available) {
    throw new DomainError(
      'INSUFFICIENT_STOCK',
      product.available === 0 ? 'This product is sold out' : `Only ${product.available} of this product are available`,
      { field: 'quantity', productId: product.id, available: Math.max(0, product.available) },
    );
  }
}

export function setLineQuantity(cart: Cart, productId: string, quantity: number, at: Date): Cart {
  validateQuantity(quantity);
  if (!cart.lines.some((line) => line.productId === productId)) throw notFound('Cart line');
  return {
    ...cart,
    lines: cart.lines.map((line) => (line.productId === productId ? { ...line, quantity } : line)),
    updatedAt: at,
  };
}

/** Removing a product that is not in the cart changes nothing (a retried removal is harmless). */
export function removeLine(cart: Cart, productId: string, at: Date): Cart {
  if (!cart.lines.some((line) => line.productId === productId)) return cart;
  return { ...cart, lines: cart.lines.filter((line) => line.productId !== productId), updatedAt: at };
}

export const clearLines = (cart: Cart, at: Date): Cart =>
  cart.lines.length === 0 ? cart : { ...cart, lines: [], updatedAt: at };

/** A cart line at the catalog's current price; null when the product can no longer be bought. */
export const cartLineTotal = (line: Pick<CartLine, 'quantity'>, price: Money | null): Money | null =>
  price && { amountCents: price.amountCents * line.quantity, currency: price.currency };

/**
 * What the cart costs at the catalog's current prices (`prices` in line order; null for a product that can
 * no longer be bought, which counts nothing). The shop sells in one currency; a cart mixing currencies has
 * no single subtotal (null). What an order costs is still fixed by the catalog when it reserves the stock.
 */
export function cartSubtotal(cart: Cart, prices: readonly (Money | null)[]): Money | null {
  const totals = cart.lines.map((line, index) => cartLineTotal(line, prices[index] ?? null)).filter((total) => total !== null);
  const currencies = new Set(totals.map((total) => total.currency));
  if (currencies.size > 1) return null;
  return {
    amountCents: totals.reduce((sum, total) => sum + total.amountCents, 0),
    currency: [...currencies][0] ?? ORDER_CURRENCY,
  };
}
