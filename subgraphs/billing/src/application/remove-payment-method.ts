import { notFound, requireViewer, type Viewer } from '@commerce/platform';
import type { BillingDeps } from './billing-deps.ts';
import { UUID_SHAPE } from './billing-deps.ts';

/**
 * Removes one of the viewer's own methods: its token is forgotten so it can never be charged again;
 * past payments keep showing its brand and last 4 digits. Someone else's method reads as not found.
 */
export async function removePaymentMethod(
  deps: Pick<BillingDeps, 'methods' | 'logger'>,
  viewer: Viewer | null,
  paymentMethodId: string,
): Promise<string> {
  const { userId } = requireViewer(viewer);
  if (!UUID_SHAPE.test(paymentMethodId) || !(await deps.methods.remove(userId, paymentMethodId))) {
    throw notFound('Payment method');
  }
  deps.logger.info({ userId, paymentMethodId }, 'payment method removed');
  return paymentMethodId;
}
