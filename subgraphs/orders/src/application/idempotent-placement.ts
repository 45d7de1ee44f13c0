import { createHash } from 'node:crypto';
import { badInput, conflict, requireViewer, type Viewer } from '@commerce/platform';
import { actorOf, newOrder, type Order } from '../domain/order.ts';
import { orderPlaced } from '../domain/order-events.ts';
import type { RequestedLine } from '../domain/order-lines.ts';
import type { ShippingAddress } from '../domain/shipping-address.ts';
import type { EventCause } from '../ports/order-event-outbox.ts';
import type { OrdersDependencies } from '../ports/orders-dependencies.ts';
import type { OrdersTransaction } from '../ports/unit-of-work.ts';
import { validateIdempotencyKey, validateReference } from './validation.ts';

/** How long an idempotency key is remembered; after that the same key starts a new request. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

export interface PlacementInput {
  paymentMethodId: string;
  shippingAddressId: string;
  idempotencyKey: string;
  /** The buyer's own credentials, to read their address book as them (see AddressBook). */
  credentials?: string;
  cause?: EventCause;
}

/** Whether this key already names a request of the buyer's that has not expired (a retry or a duplicate). */
export async function isLiveKey(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock'>,
  userId: string,
  key: string,
): Promise<boolean> {
  const record = await deps.unitOfWork.run((tx) => tx.idempotency.find(userId, key));
  return record !== null && record.expiresAt > deps.clock.now();
}

/**
 * The shipping address snapshot: one of the buyer's own addresses as users has it now, else BAD_USER_INPUT
 * on the argument. Asked before the transaction (no lock is held while users answers) and so before the key
 * is claimed: a refused address leaves the key unused. A users outage is SERVICE_UNAVAILABLE, never an
 * order without its address.
 */
export async function buyersAddress(
  deps: Pick<OrdersDependencies, 'addresses'>,
  buyer: Viewer,
  input: PlacementInput,
): Promise<ShippingAddress> {
  validateReference(input.paymentMethodId, 'paymentMethodId'); // bad arguments first, before asking users
  const addressId = validateReference(input.shippingAddressId, 'shippingAddressId');
  const address = await deps.addresses.ownAddress({ userId: buyer.userId, credentials: input.credentials }, addressId);
  if (!address) throw badInput('shippingAddressId', 'shippingAddressId is not one of your addresses');
  return address;
}

/** Where a placement's lines come from: the buyer's cart (checkout) or the request itself (placeOrder). */
export interface LineSource {
  operation: 'checkout' | 'placeOrder';
  /**
   * The lines to order, safe from concurrent changes until commit (checkout locks the cart). May be empty:
   * they are validated after the key is claimed, so a retry of a completed request still gets its order.
   */
  read(tx: OrdersTransaction, userId: string): Promise<RequestedLine[]>;
  /** Rejects lines that cannot be ordered (empty cart, ...), after the key was claimed. */
  validate(lines: RequestedLine[]): void;
  /** What the original request's lines were, as far as a retry can tell (a checkout empties the cart). */
  linesOfRetry(current: RequestedLine[], order: Order): RequestedLine[];
  /** Runs after the order was inserted, in the same transaction (checkout empties the cart). */
  afterPlaced?(tx: OrdersTransaction, userId: string, at: Date): Promise<void>;
}

interface RequestShape {
  operation: string;
  paymentMethodId: string;
  shippingAddressId: string;
  lines: RequestedLine[];
}

/** The request's fingerprint: the same operation, references and lines (in any order) give the same hash. */
export function requestFingerprint(request: RequestShape): string {
  const lines = [...request.lines]
    .sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0))
    .map((line) => [line.productId, line.quantity]);
  const canonical = JSON.stringify([request.operation, request.paymentMethodId, request.shippingAddressId, lines]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Places an order at most once per (user, idempotency key), with the semantics of payment APIs:
 * - the same key and the same request return the same order and do nothing else;
 * - the same key with a different request is a CONFLICT;
 * - a concurrent duplicate waits on the key's row (unique constraint) and then gets the same order;
 * - keys expire after 24 hours.
 * The order, its OrderPlaced event, the emptied cart and the key record commit together or not at all.
 */
export async function placeOrderIdempotently(
  deps: Pick<OrdersDependencies, 'unitOfWork' | 'clock' | 'ids'>,
  viewer: Viewer | null,
  input: PlacementInput,
  source: LineSource,
  /** Null only when the key was live before the transaction: a retry gets its order back without a new lookup. */
  shippingAddress: ShippingAddress | null,
): Promise<Order> {
  const buyer = requireViewer(viewer);
  const key = validateIdempotencyKey(input.idempotencyKey);
  const paymentMethodId = validateReference(input.paymentMethodId, 'paymentMethodId');
  const shippingAddressId = validateReference(input.shippingAddressId, 'shippingAddressId');
  const shape = (lines: RequestedLine[]): RequestShape => ({
    operation: source.operation,
    paymentMethodId,
    shippingAddressId,
    lines,
  });

  return deps.unitOfWork.run(async (tx) => {
    const now = deps.clock.now();
    const lines = await source.read(tx, buyer.userId);
    // Duplicates of this key wait here until this transaction ends; then they find its record below.
    const claimed = await tx.idempotency.claim(
      {
        userId: buyer.userId,
        key,
        operation: source.operation,
        fingerprint: requestFingerprint(shape(lines)),
        status: 'IN_PROGRESS',
        orderId: null,
        createdAt: now,
        expiresAt: new Date(now.getTime() + IDEMPOTENCY_KEY_TTL_MS),
      },
      now,
    );

    if (!claimed) {
      const record = await tx.idempotency.find(buyer.userId, key);
      const [previous] = record?.status === 'COMPLETED' && record.orderId ? await tx.orders.findByIds([record.orderId]) : [];
      if (!record || !previous) {
        throw conflict('A request with this idempotency key is still in progress', { field: 'idempotencyKey' });
      }
      if (requestFingerprint(shape(source.linesOfRetry(lines, previous))) !== record.fingerprint) {
        throw conflict('This idempotency key was already used for a different request', { field: 'idempotencyKey' });
      }
      return previous;
    }

    source.validate(lines);
    // The key was live a moment ago and expired since (24 h): nothing was looked up for a new order.
    if (!shippingAddress) throw conflict('This idempotency key expired just now; please retry', { field: 'idempotencyKey' });
    const order = await tx.orders.insert(
      newOrder({
        id: deps.ids.next(),
        userId: buyer.userId,
        lines,
        paymentMethodId,
        shippingAddressId,
        shippingAddress,
        actor: actorOf(buyer),
        at: now,
      }),
    );
    await tx.outbox.append([orderPlaced(order)], input.cause);
    await source.afterPlaced?.(tx, buyer.userId, now);
    await tx.idempotency.complete(buyer.userId, key, requestFingerprint(shape(lines)), order.id);
    return order;
  });
}
