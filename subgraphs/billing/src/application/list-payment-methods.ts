import {
  createdAtCursorOf,
  decodeCursor,
  forbidden,
  isCreatedAtCursor,
  pageSize,
  requireViewer,
  toConnection,
  type Connection,
  type Viewer,
} from '@commerce/platform';
import type { PaymentMethod } from '../domain/payment-method.ts';
import type { BillingDeps } from './billing-deps.ts';

export interface ListPaymentMethodsInput {
  first?: number | null;
  after?: string | null;
}

/**
 * A user's saved cards, newest first. Only the owner may list them — not other customers and not
 * admins either: support never needs someone's wallet to help them.
 */
export async function listPaymentMethods(
  deps: Pick<BillingDeps, 'methods'>,
  viewer: Viewer | null,
  ownerId: string,
  input: ListPaymentMethodsInput,
): Promise<Connection<PaymentMethod>> {
  const { userId } = requireViewer(viewer);
  if (userId !== ownerId) throw forbidden('Payment methods are visible to their owner only');
  const size = pageSize(input.first);
  const after = input.after ? decodeCursor(input.after, isCreatedAtCursor) : null;
  const rows = await deps.methods.listActive(ownerId, { limit: size + 1, after });
  return toConnection(rows, size, createdAtCursorOf, () => deps.methods.countActive(ownerId), after !== null);
}
