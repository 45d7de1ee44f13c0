import { canAccessUserData, type ResolverMap, type SubgraphContextBase } from '@commerce/platform';
import { cartLineTotal, cartSubtotal, totalQuantity, type Cart, type CartLine } from '../../domain/cart.ts';
import {
  actorRole,
  formatOrderNumber,
  lineTotalCents,
  type Order,
  type OrderLine,
  type StatusChange,
} from '../../domain/order.ts';
import type { Money } from '../../domain/money.ts';
import type { RequestedLine } from '../../domain/order-lines.ts';
import type { OrderStatus } from '../../domain/order-status.ts';
import type { EventCause } from '../../ports/order-event-outbox.ts';
import type { OrdersDependencies } from '../../ports/orders-dependencies.ts';
import { addToCart } from '../../application/add-to-cart.ts';
import { cancelOrderAsViewer } from '../../application/cancel-order.ts';
import { checkout } from '../../application/checkout.ts';
import { clearCart } from '../../application/clear-cart.ts';
import { deliverOrder } from '../../application/deliver-order.ts';
import { listAllOrders, listUserOrders, type OrderPageInput } from '../../application/list-orders.ts';
import { viewOrder } from '../../application/order-access.ts';
import { placeOrder } from '../../application/place-order.ts';
import { removeFromCart } from '../../application/remove-from-cart.ts';
import { shipOrder } from '../../application/ship-order.ts';
import { updateCartLine } from '../../application/update-cart-line.ts';
import { viewCart } from '../../application/view-cart.ts';
import type { OrdersLoaders } from './loaders.ts';

export interface OrdersContext extends SubgraphContextBase {
  deps: OrdersDependencies;
  loaders: OrdersLoaders;
}

interface PlacementArgs {
  paymentMethodId: string;
  shippingAddressId: string;
  idempotencyKey: string;
}

const productRef = (productId: string) => ({ __typename: 'Product', id: productId });

const money = (amountCents: number | null, currency: string | undefined): Money | null =>
  amountCents === null || currency === undefined ? null : { amountCents, currency };

/** The catalog's current price of a cart line's product (null if it can no longer be bought). */
const priceOf = async (line: CartLine, context: OrdersContext): Promise<Money | null> =>
  (await context.loaders.shoppableProduct.load(line.productId))?.price ?? null;

/** A GraphQL request causes the events it leads to: one correlation id from checkout to confirmation. */
const causeOf = (context: OrdersContext): EventCause => ({
  correlationId: context.request.requestId,
  traceparent: `00-${context.request.traceId}-${'0'.repeat(15)}1-01`,
});

export const resolvers: ResolverMap = {
  Query: {
    cart: (_root: unknown, _args: unknown, context: OrdersContext) => viewCart(context.deps, context.viewer),
    order: (_root: unknown, args: { id: string }, context: OrdersContext) => viewOrder(context.deps, context.viewer, args.id),
    orders: (
      _root: unknown,
      args: OrderPageInput & { filter?: { status?: OrderStatus | null; userId?: string | null } | null },
      context: OrdersContext,
    ) => listAllOrders(context.deps, context.viewer, args),
  },
  Mutation: {
    addToCart: (_root: unknown, args: { productId: string; quantity: number }, context: OrdersContext) =>
      addToCart(context.deps, context.viewer, args),
    updateCartLine: (_root: unknown, args: { productId: string; quantity: number }, context: OrdersContext) =>
      updateCartLine(context.deps, context.viewer, args),
    removeFromCart: (_root: unknown, args: { productId: string }, context: OrdersContext) =>
      removeFromCart(context.deps, context.viewer, args),
    clearCart: (_root: unknown, _args: unknown, context: OrdersContext) => clearCart(context.deps, context.viewer),
    checkout: (_root: unknown, args: PlacementArgs, context: OrdersContext) =>
      checkout(context.deps, context.viewer, { ...args, credentials: context.credentials, cause: causeOf(context) }),
    placeOrder: (_root: unknown, args: PlacementArgs & { lines: RequestedLine[] }, context: OrdersContext) =>
      placeOrder(context.deps, context.viewer, { ...args, credentials: context.credentials, cause: causeOf(context) }),
    cancelOrder: (_root: unknown, args: { id: string; reason?: string | null }, context: OrdersContext) =>
      cancelOrderAsViewer(context.deps, context.viewer, { orderId: args.id, reason: args.reason, cause: causeOf(context) }),
    shipOrder: (_root: unknown, args: { id: string }, context: OrdersContext) =>
      shipOrder(context.deps, context.viewer, { orderId: args.id, cause: causeOf(context) }),
    deliverOrder: (_root: unknown, args: { id: string }, context: OrdersContext) =>
      deliverOrder(context.deps, context.viewer, { orderId: args.id, cause: causeOf(context) }),
  },
  User: {
    orders: (user: { id: string }, args: OrderPageInput, context: OrdersContext) =>
      listUserOrders(context.deps, context.viewer, user.id, args),
  },
  Order: {
    // Another subgraph's reference to an order the viewer may not see resolves to null, like a missing one.
    __resolveReference: async (reference: { id: string }, context: OrdersContext) => {
      if (!context.viewer) return null;
      const order = await context.loaders.orderById.load(reference.id);
      return order && canAccessUserData(context.viewer, order.userId) ? order : null;
    },
    number: (order: Order) => formatOrderNumber(order.number),
    itemCount: (order: Order) => order.lines.reduce((sum, line) => sum + line.quantity, 0),
    lines: (order: Order) =>
      order.lines.map((line: OrderLine) => ({
        product: productRef(line.productId),
        quantity: line.quantity,
        unitPrice: money(line.unitPriceCents, order.pricing?.currency),
        lineTotal: money(lineTotalCents(line), order.pricing?.currency),
      })),
    totals: (order: Order) =>
      order.pricing && {
        subtotal: { amountCents: order.pricing.subtotalCents, currency: order.pricing.currency },
        total: { amountCents: order.pricing.totalCents, currency: order.pricing.currency },
      },
    history: (order: Order, _args: unknown, context: OrdersContext) => {
      // Actor ids (staff user ids, service names) are for admins; everyone else sees only the role.
      const showIds = context.viewer?.role === 'ADMIN';
      return order.history.map((change: StatusChange) => ({
        ...change,
        actor: { type: change.actor.type, role: actorRole(change.actor), id: showIds ? change.actor.id : null },
        at: change.at.toISOString(),
      }));
    },
    // Only the buyer and admins reach an order at all; checked again here because an address is personal data.
    shippingAddress: (order: Order, _args: unknown, context: OrdersContext) =>
      context.viewer && canAccessUserData(context.viewer, order.userId) ? order.shippingAddress : null,
    createdAt: (order: Order) => order.createdAt.toISOString(),
    updatedAt: (order: Order) => order.updatedAt.toISOString(),
  },
  Cart: {
    lines: (cart: Cart) => cart.lines,
    itemCount: (cart: Cart) => totalQuantity(cart),
    // The same loader as the lines' prices: one catalog call for the whole cart page.
    subtotal: async (cart: Cart, _args: unknown, context: OrdersContext) =>
      cartSubtotal(cart, await Promise.all(cart.lines.map((line) => priceOf(line, context)))),
    updatedAt: (cart: Cart) => cart.updatedAt?.toISOString() ?? null,
  },
  CartLine: {
    product: (line: CartLine) => productRef(line.productId),
    addedAt: (line: CartLine) => line.addedAt.toISOString(),
    unitPrice: (line: CartLine, _args: unknown, context: OrdersContext) => priceOf(line, context),
    lineTotal: async (line: CartLine, _args: unknown, context: OrdersContext) =>
      cartLineTotal(line, await priceOf(line, context)),
    available: async (line: CartLine, _args: unknown, context: OrdersContext) =>
      (await context.loaders.shoppableProduct.load(line.productId))?.available ?? 0,
  },
};
