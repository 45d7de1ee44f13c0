/**
 * Stock of one product. `reserved` units are promised to orders that have not shipped yet, so only
 * `onHand - reserved` can be sold. Invariant: 0 <= reserved <= onHand (the database enforces it too).
 */
export interface StockLevel {
  onHand: number;
  reserved: number;
}

export const availableUnits = (stock: StockLevel) => stock.onHand - stock.reserved;

export const isInStock = (stock: StockLevel) => availableUnits(stock) > 0;

export const isValidStockLevel = (stock: StockLevel) =>
  Number.isInteger(stock.onHand) && Number.isInteger(stock.reserved) && stock.reserved >= 0 && stock.reserved <= stock.onHand;

export type StockAdjustmentResult = { ok: true; stock: StockLevel } | { ok: false; reason: 'BELOW_RESERVED'; stock: StockLevel };

/**
 * An admin correction of the units on hand (delivery received, breakage, stock count). It may never
 * take on-hand below what is already reserved for orders: those units are promised.
 */
export function adjustOnHand(stock: StockLevel, delta: number): StockAdjustmentResult {
  const next = { onHand: stock.onHand + delta, reserved: stock.reserved };
  return isValidStockLevel(next) ? { ok: true, stock: next } : { ok: false, reason: 'BELOW_RESERVED', stock };
}
