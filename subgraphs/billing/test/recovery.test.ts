/**
 * Billing recovering from failures (embedded PGlite): a worker that died mid-charge, a refund asked
 * for while the provider is down, an order cancelled while its charge is in flight, and a restarted
 * process that must tell from the database which cards paid before.
 */
import { Registry, type Viewer } from '@commerce/platform';
import type { PrismaPaymentRepository } from '../src/adapters/prisma/prisma-payment-repository.ts';
import { FakePaymentProvider } from '../src/adapters/provider/fake-payment-provider.ts';
import {
  createProviderMetrics,
  DEFAULT_PROVIDER_POLICY,
  ResilientPaymentProvider,
} from '../src/adapters/provider/resilient-payment-provider.ts';
import { refundPayment } from '../src/application/refund-payment.ts';
import { chargeKeyForOrder } from '../src/domain/idempotency.ts';
import { ProviderTransientError, type PaymentProvider, type ProviderRefundRequest } from '../src/ports/payment-provider.ts';
import { newOrderId, newUserId, startBilling, type BillingUnderTest } from './billing-test-kit.ts';

/** The fake provider, with an outage switch for refunds. */
class FlakyRefunds extends FakePaymentProvider implements PaymentProvider {
  refundsDown = false;

  override async refund(request: ProviderRefundRequest) {
    if (this.refundsDown) throw new ProviderTransientError('503 Service Unavailable');
    return super.refund(request);
  }
}

const admin: Viewer = { userId: 'admin-1', role: 'ADMIN' };
let billing: BillingUnderTest;
let provider: FlakyRefunds;

beforeAll(async () => {
  provider = new FlakyRefunds();
  billing = await startBilling(
    'pglite:memory',
    { BILLING_PROVIDER_RETRY_INITIAL_DELAY_MS: '5', BILLING_PROVIDER_RETRY_MAX_DELAY_MS: '10', BILLING_BREAKER_THRESHOLD: '100' },
    { provider, timing: { attemptLeaseMs: 200, pollIntervalMs: 10 } },
  );
}, 60_000);

afterAll(async () => {
  await billing?.stop();
});

/** A new customer's order whose payment is recorded (PENDING) but whose charge has not been tried yet. */
async function recordedPayment(amountCents: number) {
  const userId = newUserId();
  const orderId = newOrderId();
  const paymentMethodId = await billing.addCard(userId);
  const { payment } = await billing.service.deps.payments.createOrGet({
    id: crypto.randomUUID(),
    orderId,
    userId,
    paymentMethodId,
    amount: { amountCents, currency: 'USD' },
  });
  return { userId, orderId, paymentMethodId, payment };
}

it('finishes a charge whose worker died after the provider captured it, without charging again', async () => {
  const { payments } = billing.service.deps;
  // The dead worker: it recorded the payment, took the lease and reached the provider, then vanished.
  const { userId, orderId, paymentMethodId, payment } = await recordedPayment(5_000);
  const claimed = await payments.claimForAttempt(payment.id, 200);
  // The claim returns the row it updated, typed like every other read of a payment.
  expect(claimed).toMatchObject({ id: payment.id, orderId, paymentMethodId, status: 'PENDING', attempts: 1 });
  expect(claimed?.amount).toEqual({ amountCents: 5_000, currency: 'USD' });
  expect(claimed?.createdAt).toBeInstanceOf(Date);
  expect(await payments.claimForAttempt(payment.id, 200)).toBeNull(); // the lease is held
  await provider.charge({
    paymentToken: 'tok_visa',
    amountCents: 5_000,
    currency: 'USD',
    idempotencyKey: chargeKeyForOrder(orderId),
    description: '',
    payer: { customerId: userId, paymentMethodId },
  });
  expect(provider.chargeCount).toBe(1);

  const started = Date.now();
  const settled = await billing.service.chargeOrder({ orderId, userId, paymentMethodId, amountCents: 5_000, currency: 'USD' });

  expect(Date.now() - started).toBeGreaterThanOrEqual(150); // it waited for the dead worker's lease to run out
  expect(settled).toMatchObject({ id: payment.id, status: 'CAPTURED', capturedCents: 5_000, attempts: 2 });
  expect(provider.chargeCount).toBe(1); // the same idempotency key reached the same provider charge
  expect(provider.callsFor(chargeKeyForOrder(orderId))).toBe(2);
  expect((await billing.service.reconcileLedger()).mismatches).toEqual([]);
});

it('keeps a refund pending with its amount reserved while the provider is down, and completes it on retry', async () => {
  const userId = newUserId();
  const orderId = newOrderId();
  const paymentMethodId = await billing.addCard(userId);
  const payment = await billing.service.chargeOrder({ orderId, userId, paymentMethodId, amountCents: 8_000, currency: 'USD' });
  const request = { paymentId: payment.id, amountCents: 3_000, reason: 'late delivery', idempotencyKey: `${payment.id}-late` };

  provider.refundsDown = true;
  await expect(refundPayment(billing.service.deps, admin, request)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  const pending = await billing.service.deps.payments.findRefundByKey(request.idempotencyKey);
  expect(pending).toMatchObject({ status: 'PENDING', amount: { amountCents: 3_000 } });
  // The pending 3 000 are reserved: a second refund of the full capture would exceed it.
  await expect(
    refundPayment(billing.service.deps, admin, { ...request, amountCents: 8_000, idempotencyKey: `${payment.id}-all` }),
  ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'amountCents', refundableCents: 5_000 } });

  provider.refundsDown = false;
  const completed = await refundPayment(billing.service.deps, admin, request);
  expect(completed).toMatchObject({ id: pending!.id, status: 'SUCCEEDED' });
  expect(provider.refundCount).toBe(1);
  expect(await billing.service.deps.payments.findById(payment.id)).toMatchObject({
    status: 'PARTIALLY_REFUNDED',
    refundedCents: 3_000,
  });
  expect((await billing.service.reconcileLedger()).mismatches).toEqual([]);
});

it('records a refund the provider rejects as failed and releases its reservation', async () => {
  const userId = newUserId();
  const paymentMethodId = await billing.addCard(userId);
  const payment = await billing.service.chargeOrder({
    orderId: newOrderId(),
    userId,
    paymentMethodId,
    amountCents: 1_000,
    currency: 'USD',
  });
  // Refund on the provider side behind billing's back, so billing's own refund is rejected there.
  await provider.refund({
    chargeId: payment.providerChargeId!,
    amountCents: 1_000,
    currency: 'USD',
    idempotencyKey: 'outside',
    customerId: userId,
  });

  const rejected = await refundPayment(billing.service.deps, admin, {
    paymentId: payment.id,
    amountCents: 600,
    reason: 'r',
    idempotencyKey: `${payment.id}-1`,
  });
  expect(rejected).toMatchObject({ status: 'FAILED', failure: { code: 'amount_too_large' } });
  expect(await billing.service.deps.payments.findById(payment.id)).toMatchObject({ status: 'CAPTURED', refundedCents: 0 });
  expect(billing.logs.text()).toContain('refund rejected by the provider');
});

it('answers a cancellation that arrives mid-charge without waiting, and refunds when the capture’s cancellation follows', async () => {
  // A charge in flight: the payment is recorded and its worker holds the lease.
  const { userId, orderId, paymentMethodId, payment } = await recordedPayment(2_500);
  expect(await billing.service.deps.payments.claimForAttempt(payment.id, 200)).not.toBeNull();
  const refundsBefore = provider.refundCount;

  // OrderCancelled now: no error to retry (and park after a few attempts) while the provider answers.
  expect(await billing.service.refundInFull({ orderId, reason: 'customer cancelled' })).toMatchObject({
    outcome: 'charge_in_flight',
    payment: { id: payment.id, status: 'PENDING' },
  });
  expect(provider.refundCount).toBe(refundsBefore);

  // The charge completes; orders answers its PaymentCaptured for the cancelled order with another
  // OrderCancelled (e2e/saga-embedded.test.ts), and that one gives the money back.
  const captured = await billing.service.chargeOrder({ orderId, userId, paymentMethodId, amountCents: 2_500, currency: 'USD' });
  expect(captured).toMatchObject({ id: payment.id, status: 'CAPTURED' });
  expect(await billing.service.refundInFull({ orderId, reason: 'payment captured for a cancelled order' })).toMatchObject({
    outcome: 'refunded',
    refund: { status: 'SUCCEEDED', amount: { amountCents: 2_500 } },
  });
  expect(provider.refundCount).toBe(refundsBefore + 1);
  expect((await billing.service.reconcileLedger()).mismatches).toEqual([]);
});

it('after a restart, the payments in the database tell which cards paid before: only their failures open the circuit', async () => {
  const chargeable = async () => {
    const customerId = newUserId();
    return { customerId, paymentMethodId: await billing.addCard(customerId) };
  };
  const regulars = [];
  for (let i = 0; i < 3; i++) {
    const payer = await chargeable();
    const paid = await billing.service.chargeOrder({
      orderId: newOrderId(),
      userId: payer.customerId,
      paymentMethodId: payer.paymentMethodId,
      amountCents: 1_000,
      currency: 'USD',
    });
    expect(paid.status).toBe('CAPTURED');
    regulars.push(payer);
  }
  const newcomers = [await chargeable(), await chargeable(), await chargeable()];

  // A fresh policy layer, as in a new process: it has seen none of those charges.
  const restarted = new ResilientPaymentProvider(
    provider,
    { ...DEFAULT_PROVIDER_POLICY, timeoutMs: 50, maxRetries: 0, breakerThreshold: 3, breakerMinCustomers: 3 },
    billing.service.deps.logger,
    createProviderMetrics(new Registry()),
    billing.service.deps.payments as PrismaPaymentRepository,
  );
  const charge = (payer: { customerId: string; paymentMethodId: string }, key: string) =>
    restarted.charge({
      paymentToken: 'tok_visa',
      amountCents: 1_000,
      currency: 'USD',
      idempotencyKey: key,
      description: 'test',
      payer,
    });
  provider.simulateOutage(true);
  try {
    for (const [i, payer] of [...newcomers, ...newcomers].entries()) {
      await expect(charge(payer, `newcomer-${i}`)).rejects.toMatchObject({ reason: 'timeout' });
    }
    expect(restarted.circuitState).toBe('closed'); // cards that never paid: no evidence against the provider
    for (const [i, payer] of regulars.entries()) {
      await expect(charge(payer, `regular-${i}`)).rejects.toMatchObject({ reason: 'timeout' });
    }
    expect(restarted.circuitState).toBe('open');
  } finally {
    provider.simulateOutage(false);
  }
});
