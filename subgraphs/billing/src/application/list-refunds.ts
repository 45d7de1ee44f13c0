import { createdAtCursorOf, decodeCursor, isCreatedAtCursor, pageSize, toConnection, type Connection } from '@commerce/platform';
import type { Refund } from '../domain/refund.ts';
import type { BillingDeps } from './billing-deps.ts';

/** A payment's refunds, oldest first. The caller has already been allowed to see the payment. */
export async function listRefunds(
  deps: Pick<BillingDeps, 'payments'>,
  paymentId: string,
  input: { first?: number | null; after?: string | null },
): Promise<Connection<Refund>> {
  const size = pageSize(input.first);
  const after = input.after ? decodeCursor(input.after, isCreatedAtCursor) : null;
  const rows = await deps.payments.listRefunds(paymentId, { limit: size + 1, after });
  return toConnection(rows, size, createdAtCursorOf, () => deps.payments.countRefunds(paymentId), after !== null);
}
