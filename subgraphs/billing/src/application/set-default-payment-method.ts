import { notFound, requireViewer, type Viewer } from '@commerce/platform';
import type { PaymentMethod } from '../domain/payment-method.ts';
import type { BillingDeps } from './billing-deps.ts';
import { UUID_SHAPE } from './billing-deps.ts';

/** Makes one of the viewer's own active methods their default (the one checkout offers first). */
export async function setDefaultPaymentMethod(
  deps: Pick<BillingDeps, 'methods'>,
  viewer: Viewer | null,
  paymentMethodId: string,
): Promise<PaymentMethod> {
  const { userId } = requireViewer(viewer);
  if (!UUID_SHAPE.test(paymentMethodId) || !(await deps.methods.setDefault(userId, paymentMethodId))) {
    throw notFound('Payment method');
  }
  const [method] = await deps.methods.findByIds([paymentMethodId]);
  if (!method) throw notFound('Payment method');
  return method;
}
