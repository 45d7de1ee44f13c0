import { badInput, notFound } from '@commerce/platform/errors';
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
