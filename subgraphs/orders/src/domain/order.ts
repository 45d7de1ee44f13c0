import type { Viewer } from '@commerce/platform/auth';
import type { ShippingAddress } from './shipping-address.ts';
import { refuseCardNumbers } from '@commerce/platform/card-numbers';
import { badInput, conflict } from '@commerce/platform/errors';
import { isAmount, isCurrencyCode, type Money } from './money.ts';
import { assertTransition, type OrderStatus } from './order-status.ts';
import type { RequestedLine } from './order-lines.ts';

/** Who changed an order: the customer, an admin, or another part of the system (the saga, by service name). */
export type ActorType = 'CUSTOMER' | 'ADMIN' | 'SYSTEM';

export interface Actor {
  type: ActorType;
  /** The user id for customers and admins; the service name for SYSTEM. */
  id: string;
}

export const actorOf = (viewer: Viewer): Actor => ({ type: viewer.role === 'ADMIN' ? 'ADMIN' : 'CUSTOMER', id: viewer.userId });

export const systemActor = (service: string): Actor => ({ type: 'SYSTEM', id: service });

/** What the customer is told acted on their order: which admin did it is the shop's business, not theirs. */
export type ActorRole = 'SHOP' | 'CUSTOMER' | 'SYSTEM';

export const actorRole = (actor: Actor): ActorRole => (actor.type === 'ADMIN' ? 'SHOP' : actor.type);

export interface StatusChange {
  /** Null for the entry that records the order being placed. */
  from: OrderStatus | null;
  to: OrderStatus;
  reason: string | null;
  actor: Actor;
  at: Date;
}

export interface OrderLine {
  productId: string;
  quantity: number;
  /** Null until the catalog has priced the line (StockReserved). */
  unitPriceCents: number | null;
}

/** Amounts the catalog confirmed when it reserved the stock; never computed from client input. */
export interface OrderPricing {
  currency: string;
  subtotalCents: number;
  totalCents: number;
}

export interface Order {
  id: string;
  /** Sequential and unique; shown to people as ORD-000123. */
  number: number;
  userId: string;
  status: OrderStatus;
  lines: OrderLine[];
  pricing: OrderPricing | null;
  paymentMethodId: string;
  shippingAddressId: string;
  /** The address at checkout; null only for orders placed before orders kept it. */
  shippingAddress: ShippingAddress | null;
  paymentId: string | null;
  history: StatusChange[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** An order before the database assigned its number. */
export type NewOrder = Omit<Order, 'number'>;

/** What a use case did to an order: `change` is null when the command had already been applied (redelivery). */
export interface OrderUpdate {
  order: Order;
  change: StatusChange | null;
}

export const formatOrderNumber = (number: number) => `ORD-${String(number).padStart(6, '0')}`;

export const MAX_REASON_LENGTH = 500;

export function validateReason(reason: string | null | undefined, field = 'reason'): string | null {
  const trimmed = reason?.trim() ?? '';
  if (trimmed.length > MAX_REASON_LENGTH) throw badInput(field, `${field} is at most ${MAX_REASON_LENGTH} characters`);
  // The reason is stored in the history and published in OrderCancelled: never with a card number in it.
  refuseCardNumbers({ [field]: trimmed });
  return trimmed.length > 0 ? trimmed : null;
}

export interface PlaceOrderCommand {
  id: string;
  userId: string;
  lines: readonly RequestedLine[];
  paymentMethodId: string;
  shippingAddressId: string;
  shippingAddress: ShippingAddress;
  actor: Actor;
  at: Date;
}

/** A new order is PENDING with unpriced lines; its history starts with the placement itself. */
export function newOrder(command: PlaceOrderCommand): NewOrder {
  return {
    id: command.id,
    userId: command.userId,
    status: 'PENDING',
    lines: command.lines.map(({ productId, quantity }) => ({ productId, quantity, unitPriceCents: null })),
    pricing: null,
    paymentMethodId: command.paymentMethodId,
    shippingAddressId: command.shippingAddressId,
    shippingAddress: command.shippingAddress,
    paymentId: null,
    history: [{ from: null, to: 'PENDING', reason: 'Order placed', actor: command.actor, at: command.at }],
    version: 1,
    createdAt: command.at,
    updatedAt: command.at,
  };
}

interface ChangeContext {
  reason: string | null;
  actor: Actor;
  at: Date;
}

function transition(order: Order, to: OrderStatus, context: ChangeContext, patch: Partial<Order> = {}): OrderUpdate {
  assertTransition(order.status, to);
  const change: StatusChange = { from: order.status, to, reason: context.reason, actor: context.actor, at: context.at };
  return {
    order: {
      ...order,
      ...patch,
      status: to,
      history: [...order.history, change],
      version: order.version + 1,
      updatedAt: context.at,
    },
    change,
  };
}

/** Billing captured the payment. A redelivered capture of the same payment changes nothing. */
export function confirmPayment(order: Order, paymentId: string, context: ChangeContext): OrderUpdate {
  if (order.paymentId !== null) {
    if (order.paymentId !== paymentId)
      throw conflict('The order was already paid by another payment', { paymentId: order.paymentId });
    if (order.status !== 'PENDING') return { order, change: null };
  }
  return transition(order, 'CONFIRMED', context, { paymentId });
}

/** Cancelling a cancelled order changes nothing; a shipped or delivered one cannot be cancelled. */
export function cancel(order: Order, context: ChangeContext): OrderUpdate {
  if (order.status === 'CANCELLED') return { order, change: null };
  return transition(order, 'CANCELLED', context);
}

export const ship = (order: Order, context: ChangeContext): OrderUpdate => transition(order, 'SHIPPED', context);

export const deliver = (order: Order, context: ChangeContext): OrderUpdate => transition(order, 'DELIVERED', context);

export interface PricedLine {
  productId: string;
  quantity: number;
  unitPrice: Money;
}

/**
 * Records the prices the catalog confirmed when it reserved the stock. The priced lines must match the
 * order's lines exactly; the same prices again change nothing, different ones are a conflict.
 */
export function applyPrices(
  order: Order,
  pricedLines: readonly PricedLine[],
  total: Money,
  at: Date,
): { order: Order; changed: boolean } {
  if (!isCurrencyCode(total.currency) || !isAmount(total.amountCents)) throw conflict('The priced total is not a valid amount');
  const byProduct = new Map(pricedLines.map((line) => [line.productId, line]));
  if (byProduct.size !== pricedLines.length || byProduct.size !== order.lines.length) {
    throw conflict('The priced lines do not match the order lines');
  }
  const lines = order.lines.map((line) => {
    const priced = byProduct.get(line.productId);
    if (!priced || priced.quantity !== line.quantity) throw conflict('The priced lines do not match the order lines');
    if (priced.unitPrice.currency !== total.currency || !isAmount(priced.unitPrice.amountCents)) {
      throw conflict('Every priced line must be a valid amount in the currency of the total');
    }
    return { ...line, unitPriceCents: priced.unitPrice.amountCents };
  });
  const subtotalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  const pricing: OrderPricing = { currency: total.currency, subtotalCents, totalCents: total.amountCents };
  if (order.pricing) {
    const same =
      order.pricing.currency === pricing.currency &&
      order.pricing.totalCents === pricing.totalCents &&
      order.lines.every((line, index) => line.unitPriceCents === lines[index]!.unitPriceCents);
    if (same) return { order, changed: false };
    throw conflict('The order was already priced differently');
  }
  return { order: { ...order, lines, pricing, version: order.version + 1, updatedAt: at }, changed: true };
}

export const lineTotalCents = (line: OrderLine) => (line.unitPriceCents === null ? null : line.unitPriceCents * line.quantity);
