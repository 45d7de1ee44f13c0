import { badInput } from '@commerce/platform/errors';

/** Shared by carts and orders: how many of one product a line may hold, and how many lines there may be. */
export const MIN_LINE_QUANTITY = 1;
export const MAX_LINE_QUANTITY = 99;
export const MAX_LINES = 50;

export interface RequestedLine {
  productId: string;
  quantity: number;
}

export function validateQuantity(quantity: number, field = 'quantity'): number {
  if (!Number.isInteger(quantity) || quantity < MIN_LINE_QUANTITY || quantity > MAX_LINE_QUANTITY) {
    throw badInput(field, `${field} must be a whole number from ${MIN_LINE_QUANTITY} to ${MAX_LINE_QUANTITY}`);
  }
  return quantity;
}

/** Product ids are the catalog's; here they only need to look like an id (the catalog confirms they exist). */
export function validateProductId(productId: string, field = 'productId'): string {
  const trimmed = productId.trim();
  if (trimmed.length === 0 || trimmed.length > 100) throw badInput(field, `${field} must be a product id`);
  return trimmed;
}

/** Lines a client sends (mobile `placeOrder`): at least one, each product once, each quantity in range. */
export function validateRequestedLines(lines: readonly RequestedLine[], field = 'lines'): RequestedLine[] {
  if (lines.length === 0) throw badInput(field, 'An order needs at least one line');
  if (lines.length > MAX_LINES) throw badInput(field, `An order has at most ${MAX_LINES} lines`);
  const seen = new Set<string>();
  return lines.map((line, index) => {
    const productId = validateProductId(line.productId, `${field}[${index}].productId`);
    if (seen.has(productId)) throw badInput(`${field}[${index}].productId`, 'Each product may appear in one line only');
    seen.add(productId);
    return { productId, quantity: validateQuantity(line.quantity, `${field}[${index}].quantity`) };
  });
}
