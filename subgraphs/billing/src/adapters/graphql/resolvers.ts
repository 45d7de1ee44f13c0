import { currentRequestContext, requireAdmin, type ResolverMap, type SubgraphContextBase } from '@commerce/platform';
import type { Payment } from '../../domain/payment.ts';
import type { PaymentMethod } from '../../domain/payment-method.ts';
import type { Refund } from '../../domain/refund.ts';
import type { LedgerMismatch } from '../../domain/ledger.ts';
import type { BillingDeps } from '../../application/billing-deps.ts';
import { addPaymentMethod, type AddPaymentMethodInput } from '../../application/add-payment-method.ts';
import { listPaymentMethods, type ListPaymentMethodsInput } from '../../application/list-payment-methods.ts';
import { listRefunds } from '../../application/list-refunds.ts';
import { reconcileLedger, type LedgerReconciliation } from '../../application/reconcile-ledger.ts';
import { refundPayment } from '../../application/refund-payment.ts';
import { removePaymentMethod } from '../../application/remove-payment-method.ts';
import { setDefaultPaymentMethod } from '../../application/set-default-payment-method.ts';
import { viewOrderPayment, viewPayment, viewPaymentMethodOfPayment } from '../../application/view-payment.ts';
import { refundableCents } from '../../domain/payment.ts';
import type { BillingLoaders } from './loaders.ts';

export interface BillingContext extends SubgraphContextBase {
  deps: BillingDeps;
  loaders: BillingLoaders;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** Admin-triggered events follow from the HTTP request: its trace id correlates them. */
const requestCause = () => {
  const request = currentRequestContext();
  return request ? { correlationId: request.requestId, traceparent: `00-${request.traceId}-${'0'.repeat(15)}1-01` } : undefined;
};

export const resolvers: ResolverMap = {
  Query: {
    payment: (_root: unknown, args: { id: string }, context: BillingContext) =>
      viewPayment(context.deps, context.viewer, args.id),
    ledgerReconciliation: (_root: unknown, _args: unknown, context: BillingContext) => {
      requireAdmin(context.viewer);
      return reconcileLedger(context.deps);
    },
  },
  Mutation: {
    addPaymentMethod: (_root: unknown, args: AddPaymentMethodInput, context: BillingContext) =>
      addPaymentMethod({ ...context.deps, logger: context.logger }, context.viewer, args),
    removePaymentMethod: (_root: unknown, args: { id: string }, context: BillingContext) =>
      removePaymentMethod({ ...context.deps, logger: context.logger }, context.viewer, args.id),
    setDefaultPaymentMethod: (_root: unknown, args: { id: string }, context: BillingContext) =>
      setDefaultPaymentMethod(context.deps, context.viewer, args.id),
    refundPayment: (
      _root: unknown,
      args: { paymentId: string; amountCents: number; reason: string; idempotencyKey: string },
      context: BillingContext,
    ) => refundPayment({ ...context.deps, logger: context.logger }, context.viewer, { ...args, cause: requestCause() }),
  },
  User: {
    __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
    paymentMethods: (user: { id: string }, args: ListPaymentMethodsInput, context: BillingContext) =>
      listPaymentMethods(context.deps, context.viewer, user.id, args),
  },
  Order: {
    __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
    payment: (order: { id: string }, _args: unknown, context: BillingContext) =>
      viewOrderPayment((orderId) => context.loaders.paymentByOrderId.load(orderId), context.viewer, order.id),
  },
  Payment: {
    // A reference from another subgraph gets the same check as a direct lookup.
    __resolveReference: (reference: { id: string }, context: BillingContext) =>
      viewPayment(context.deps, context.viewer, reference.id),
    order: (payment: Payment) => ({ id: payment.orderId }),
    captured: (payment: Payment) => ({ amountCents: payment.capturedCents, currency: payment.amount.currency }),
    refunded: (payment: Payment) => ({ amountCents: payment.refundedCents, currency: payment.amount.currency }),
    refundable: (payment: Payment) => ({ amountCents: refundableCents(payment), currency: payment.amount.currency }),
    paymentMethod: (payment: Payment, _args: unknown, context: BillingContext) =>
      viewPaymentMethodOfPayment((id) => context.loaders.paymentMethodById.load(id), context.viewer, payment),
    refunds: (payment: Payment, args: { first?: number | null; after?: string | null }, context: BillingContext) =>
      listRefunds(context.deps, payment.id, args),
    createdAt: (payment: Payment) => payment.createdAt.toISOString(),
    updatedAt: (payment: Payment) => payment.updatedAt.toISOString(),
    settledAt: (payment: Payment) => iso(payment.settledAt),
  },
  Refund: {
    // A refund is only reachable through a payment the viewer may see, or by the admin who made it.
    payment: (refund: Refund, _args: unknown, context: BillingContext) => context.loaders.paymentById.load(refund.paymentId),
    createdAt: (refund: Refund) => refund.createdAt.toISOString(),
    settledAt: (refund: Refund) => iso(refund.settledAt),
  },
  PaymentMethod: {
    createdAt: (method: PaymentMethod) => method.createdAt.toISOString(),
  },
  LedgerReconciliation: {
    balanced: (result: LedgerReconciliation) => result.mismatches.length === 0,
    checkedAt: (result: LedgerReconciliation) => result.checkedAt.toISOString(),
  },
  LedgerMismatch: {
    storedCaptured: (mismatch: LedgerMismatch) => mismatch.stored.capturedCents,
    storedRefunded: (mismatch: LedgerMismatch) => mismatch.stored.refundedCents,
    ledgerCaptured: (mismatch: LedgerMismatch) => mismatch.ledger.capturedCents,
    ledgerRefunded: (mismatch: LedgerMismatch) => mismatch.ledger.refundedCents,
  },
};
