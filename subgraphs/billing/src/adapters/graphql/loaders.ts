import DataLoader from 'dataloader';
import type { Payment } from '../../domain/payment.ts';
import type { PaymentMethod } from '../../domain/payment-method.ts';
import type { PaymentMethodRepository } from '../../ports/payment-method-repository.ts';
import type { PaymentRepository } from '../../ports/payment-repository.ts';

/** DataLoaders live for one request: batching without sharing data across viewers. */
export function createBillingLoaders(payments: PaymentRepository, methods: PaymentMethodRepository) {
  return {
    paymentById: new DataLoader<string, Payment | null>(async (ids) => {
      const found = new Map((await payments.findByIds(ids)).map((payment) => [payment.id, payment]));
      return ids.map((id) => found.get(id) ?? null);
    }),
    paymentByOrderId: new DataLoader<string, Payment | null>(async (orderIds) => {
      const found = new Map((await payments.findByOrderIds(orderIds)).map((payment) => [payment.orderId, payment]));
      return orderIds.map((orderId) => found.get(orderId) ?? null);
    }),
    paymentMethodById: new DataLoader<string, PaymentMethod | null>(async (ids) => {
      const found = new Map((await methods.findByIds(ids)).map((method) => [method.id, method]));
      return ids.map((id) => found.get(id) ?? null);
    }),
  };
}

export type BillingLoaders = ReturnType<typeof createBillingLoaders>;
