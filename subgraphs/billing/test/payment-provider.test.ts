import { Writable } from 'node:stream';
import { createLogger, Registry } from '@commerce/platform';
import { FakePaymentProvider } from '../src/adapters/provider/fake-payment-provider.ts';
import {
  createProviderMetrics,
  DEFAULT_PROVIDER_POLICY,
  ResilientPaymentProvider,
  worstCaseCallMs,
  type ProviderPolicySettings,
} from '../src/adapters/provider/resilient-payment-provider.ts';
import {
  ProviderTransientError,
  ProviderUnavailableError,
  type ChargePayer,
  type ChargeRequest,
} from '../src/ports/payment-provider.ts';

/** By default every charge is a different customer's card: only tests about one card or customer share one. */
let payers = 0;
const newPayer = (): ChargePayer => ({ customerId: `customer-${++payers}`, paymentMethodId: `pm-${payers}` });

const charge = (paymentToken: string, idempotencyKey: string, amountCents = 1_000, payer = newPayer()): ChargeRequest => ({
  paymentToken,
  idempotencyKey,
  amountCents,
  currency: 'USD',
  description: 'test',
  payer,
});

describe('fake payment provider (test mode tokens)', () => {
  it('describes test cards by brand, last 4 and a future expiry only', async () => {
    const provider = new FakePaymentProvider(() => new Date(Date.UTC(2030, 0, 1)));
    expect(await provider.describePaymentMethod('tok_visa')).toEqual({
      brand: 'VISA',
      last4: '4242',
      expMonth: 12,
      expYear: 2033,
    });
    expect(await provider.describePaymentMethod('tok_mastercard')).toMatchObject({ brand: 'MASTERCARD', last4: '4444' });
    expect(await provider.describePaymentMethod('tok_unknown')).toBeNull();
  });

  it('captures tok_visa and tok_mastercard once per idempotency key', async () => {
    const provider = new FakePaymentProvider();
    const first = await provider.charge(charge('tok_visa', 'k1'));
    const again = await provider.charge(charge('tok_visa', 'k1'));
    await provider.charge(charge('tok_mastercard', 'k2'));
    expect(first).toEqual({ outcome: 'captured', chargeId: expect.stringMatching(/^ch_fake_/) });
    expect(again).toEqual(first);
    expect(provider.chargeCount).toBe(2);
    expect(provider.chargeCalls).toBe(3);
  });

  it('refuses a reused idempotency key with different parameters', async () => {
    const provider = new FakePaymentProvider();
    await provider.charge(charge('tok_visa', 'k1', 1_000));
    await expect(provider.charge(charge('tok_visa', 'k1', 2_000))).rejects.toThrow(/reused with different parameters/);
    expect(provider.chargeCount).toBe(1);
  });

  it('declines tok_chargeDeclined, the same way every time', async () => {
    const provider = new FakePaymentProvider();
    const result = await provider.charge(charge('tok_chargeDeclined', 'k1'));
    expect(result).toEqual({ outcome: 'declined', code: 'card_declined', message: expect.any(String) });
    expect(await provider.charge(charge('tok_chargeDeclined', 'k1'))).toEqual(result);
    expect(provider.chargeCount).toBe(0);
  });

  it('fails tok_transient transiently once per key, then succeeds', async () => {
    const provider = new FakePaymentProvider();
    await expect(provider.charge(charge('tok_transient', 'k1'))).rejects.toBeInstanceOf(ProviderTransientError);
    expect(await provider.charge(charge('tok_transient', 'k1'))).toMatchObject({ outcome: 'captured' });
    await expect(provider.charge(charge('tok_transient', 'k2'))).rejects.toBeInstanceOf(ProviderTransientError);
    expect(provider.chargeCount).toBe(1);
  });

  it('never answers tok_timeout until the caller aborts', async () => {
    const provider = new FakePaymentProvider();
    const controller = new AbortController();
    const pending = provider.charge(charge('tok_timeout', 'k1'), controller.signal);
    const raced = await Promise.race([
      pending.then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((r) => setTimeout(() => r('waiting'), 50)),
    ]);
    expect(raced).toBe('waiting');
    controller.abort();
    await expect(pending).rejects.toThrow(/aborted/);
    expect(provider.chargeCount).toBe(0);
  });

  it('refunds a charge at most up to its amount, once per key', async () => {
    const provider = new FakePaymentProvider();
    const captured = await provider.charge(charge('tok_visa', 'k1', 1_000));
    if (captured.outcome !== 'captured') throw new Error('expected a capture');
    const request = { chargeId: captured.chargeId, amountCents: 600, currency: 'USD', idempotencyKey: 'r1' };
    const refunded = await provider.refund(request);
    expect(refunded).toMatchObject({ outcome: 'refunded' });
    expect(await provider.refund(request)).toEqual(refunded);
    expect(await provider.refund({ ...request, idempotencyKey: 'r2', amountCents: 401 })).toMatchObject({
      outcome: 'rejected',
      code: 'amount_too_large',
    });
    expect(provider.refundCount).toBe(1);
    expect(provider.chargeFor('k1')?.refundedCents).toBe(600);
  });
});

/** Collects log lines, so tests can check what operators would see. */
function captureLogs() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ service: 'billing', level: 'debug', destination }), lines, text: () => lines.join('\n') };
}

const SHORT_POLICY: ProviderPolicySettings = {
  ...DEFAULT_PROVIDER_POLICY,
  timeoutMs: 60,
  maxRetries: 2,
  retryInitialDelayMs: 5,
  retryMaxDelayMs: 20,
  breakerThreshold: 3,
  breakerHalfOpenAfterMs: 150,
};

function resilientFake(settings: ProviderPolicySettings = SHORT_POLICY, now: () => number = Date.now) {
  const fake = new FakePaymentProvider();
  const registry = new Registry();
  const logs = captureLogs();
  const provider = new ResilientPaymentProvider(fake, settings, logs.logger, createProviderMetrics(registry), now);
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const found = (await registry.getMetricsAsJSON()).find((m) => name.startsWith(m.name));
    const values = (found?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[];
    return values
      .filter((v) => (v.metricName ?? name) === name && Object.entries(labels).every(([k, value]) => v.labels[k] === value))
      .reduce((sum, v) => sum + v.value, 0);
  };
  return { fake, provider, registry, logs, metric };
}

describe('resilient payment provider (cockatiel policies)', () => {
  it('retries a transient failure with backoff and succeeds with one capture', async () => {
    const { fake, provider, logs, metric } = resilientFake();
    const result = await provider.charge(charge('tok_transient', 'order-1'));
    expect(result).toMatchObject({ outcome: 'captured' });
    expect(fake.callsFor('order-1')).toBe(2);
    expect(fake.chargeCount).toBe(1);
    expect(await metric('billing_provider_retries_total', { operation: 'charge' })).toBe(1);
    expect(
      await metric('billing_provider_request_duration_seconds_count', { operation: 'charge', outcome: 'transient_error' }),
    ).toBe(1);
    expect(await metric('billing_provider_request_duration_seconds_count', { operation: 'charge', outcome: 'success' })).toBe(1);
    expect(logs.text()).toContain('retrying payment provider call after a transient failure');
  });

  it('does not retry a decline, and a decline does not count against the circuit', async () => {
    const { fake, provider, metric } = resilientFake();
    for (let i = 0; i < SHORT_POLICY.breakerThreshold + 1; i++) {
      expect(await provider.charge(charge('tok_chargeDeclined', `declined-${i}`))).toMatchObject({ outcome: 'declined' });
    }
    expect(fake.chargeCalls).toBe(SHORT_POLICY.breakerThreshold + 1);
    expect(await metric('billing_provider_retries_total')).toBe(0);
    expect(provider.circuitState).toBe('closed');
  });

  it('times out a provider that never answers, without retrying it', async () => {
    const { fake, provider, metric, logs } = resilientFake();
    const started = Date.now();
    const error = await provider.charge(charge('tok_timeout', 'order-t')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as ProviderUnavailableError).reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(SHORT_POLICY.timeoutMs * 2 + 200);
    expect(fake.callsFor('order-t')).toBe(1);
    expect(await metric('billing_provider_request_duration_seconds_count', { outcome: 'timeout' })).toBe(1);
    expect(logs.text()).toContain('payment provider call timed out');
  });

  it('gives up after the configured retries when failures persist', async () => {
    const fake = new FakePaymentProvider();
    const failing = {
      name: 'always-transient',
      describePaymentMethod: fake.describePaymentMethod.bind(fake),
      refund: fake.refund.bind(fake),
      calls: 0,
      async charge() {
        this.calls += 1;
        throw new ProviderTransientError('503 from provider');
      },
    };
    const registry = new Registry();
    const provider = new ResilientPaymentProvider(
      failing,
      { ...SHORT_POLICY, breakerThreshold: 100 },
      captureLogs().logger,
      createProviderMetrics(registry),
    );
    const error = await provider.charge(charge('tok_visa', 'k')).catch((e: unknown) => e);
    expect((error as ProviderUnavailableError).reason).toBe('retries_exhausted');
    expect(failing.calls).toBe(SHORT_POLICY.maxRetries + 1);
  });

  it('opens the circuit after consecutive failures, fails fast, and closes again after a successful probe', async () => {
    const { fake, provider, logs, metric } = resilientFake();
    for (let i = 0; i < SHORT_POLICY.breakerThreshold; i++) {
      await expect(provider.charge(charge('tok_timeout', `t-${i}`))).rejects.toMatchObject({ reason: 'timeout' });
    }
    expect(provider.circuitState).toBe('open');
    expect(await metric('billing_provider_circuit_state')).toBe(1);
    expect(logs.text()).toContain('payment provider circuit opened');

    const callsBefore = fake.chargeCalls;
    await expect(provider.charge(charge('tok_visa', 'while-open'))).rejects.toMatchObject({ reason: 'circuit_open' });
    expect(fake.chargeCalls).toBe(callsBefore); // failed fast: the provider was not called

    await new Promise((resolve) => setTimeout(resolve, SHORT_POLICY.breakerHalfOpenAfterMs + 20));
    expect(await provider.charge(charge('tok_visa', 'probe'))).toMatchObject({ outcome: 'captured' });
    expect(provider.circuitState).toBe('closed');
    expect(await metric('billing_provider_circuit_state')).toBe(0);
    expect(logs.text()).toContain('payment provider circuit half-open');
    expect(logs.text()).toContain('payment provider circuit closed');
  });

  it('keeps the circuit open when the half-open probe fails', async () => {
    const { provider } = resilientFake();
    for (let i = 0; i < SHORT_POLICY.breakerThreshold; i++) {
      await provider.charge(charge('tok_timeout', `t-${i}`)).catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, SHORT_POLICY.breakerHalfOpenAfterMs + 20));
    await expect(provider.charge(charge('tok_timeout', 'probe'))).rejects.toMatchObject({ reason: 'timeout' });
    expect(provider.circuitState).toBe('open');
  });

  it("keeps one card's timeouts with that card: refused on its own, while the circuit stays closed for everyone else", async () => {
    let clock = 1_000_000;
    const { fake, provider, logs, metric } = resilientFake(SHORT_POLICY, () => clock);
    const flooder = newPayer();
    for (let i = 0; i < SHORT_POLICY.cardFailureThreshold; i++) {
      await expect(provider.charge(charge('tok_timeout', `flood-${i}`, 1_000, flooder))).rejects.toMatchObject({
        reason: 'timeout',
      });
    }
    const callsBefore = fake.chargeCalls;
    for (let i = 0; i < 20; i++) {
      await expect(provider.charge(charge('tok_timeout', `flood-more-${i}`, 1_000, flooder))).rejects.toMatchObject({
        reason: 'card_backoff',
      });
    }
    expect(fake.chargeCalls).toBe(callsBefore); // refused without asking the provider
    expect(await metric('billing_provider_card_refusals_total')).toBe(20);
    expect(provider.circuitState).toBe('closed');
    expect(await provider.charge(charge('tok_visa', 'someone-else'))).toMatchObject({ outcome: 'captured' });
    expect(logs.text()).toContain('card keeps failing: refusing its charges for a while');
    expect(logs.text()).not.toContain('tok_timeout'); // logs name the card by billing's id, never its token

    // After its back-off the card gets one more try; failing again doubles the back-off.
    clock += SHORT_POLICY.cardBackoffMs;
    await expect(provider.charge(charge('tok_timeout', 'flood-later', 1_000, flooder))).rejects.toMatchObject({
      reason: 'timeout',
    });
    clock += SHORT_POLICY.cardBackoffMs;
    await expect(provider.charge(charge('tok_timeout', 'flood-later-2', 1_000, flooder))).rejects.toMatchObject({
      reason: 'card_backoff',
    });
    clock += SHORT_POLICY.cardBackoffMs;
    expect(await provider.charge(charge('tok_visa', 'card-works-again', 1_000, flooder))).toMatchObject({ outcome: 'captured' });
    expect(await provider.charge(charge('tok_visa', 'and-is-forgiven', 1_000, flooder))).toMatchObject({ outcome: 'captured' });
    expect(provider.circuitState).toBe('closed');
  });

  it('one customer with many failing cards never opens the circuit; the same failures from several customers do', async () => {
    const { provider } = resilientFake();
    for (let i = 0; i < SHORT_POLICY.breakerThreshold * 2; i++) {
      const payer = { customerId: 'customer-with-many-cards', paymentMethodId: `pm-many-${i}` };
      await expect(provider.charge(charge('tok_timeout', `many-${i}`, 1_000, payer))).rejects.toMatchObject({
        reason: 'timeout',
      });
    }
    expect(provider.circuitState).toBe('closed');
    for (let i = 1; i < SHORT_POLICY.breakerMinCustomers; i++) {
      await provider.charge(charge('tok_timeout', `others-${i}`)).catch(() => undefined);
    }
    expect(provider.circuitState).toBe('open');
  });

  it('a decline counts against its card, never against the provider: the provider answered', async () => {
    const { fake, provider } = resilientFake();
    const declined = newPayer();
    for (let i = 0; i < SHORT_POLICY.cardFailureThreshold; i++) {
      expect(await provider.charge(charge('tok_chargeDeclined', `declined-${i}`, 1_000, declined))).toMatchObject({
        outcome: 'declined',
      });
    }
    const callsBefore = fake.chargeCalls;
    await expect(provider.charge(charge('tok_chargeDeclined', 'declined-again', 1_000, declined))).rejects.toMatchObject({
      reason: 'card_backoff',
    });
    expect(fake.chargeCalls).toBe(callsBefore);

    // Timeouts from different customers with a decline between them: the decline proves the provider is up.
    await provider.charge(charge('tok_timeout', 'timeout-1')).catch(() => undefined);
    await provider.charge(charge('tok_timeout', 'timeout-2')).catch(() => undefined);
    expect(await provider.charge(charge('tok_chargeDeclined', 'declined-between'))).toMatchObject({ outcome: 'declined' });
    await provider.charge(charge('tok_timeout', 'timeout-3')).catch(() => undefined);
    expect(provider.circuitState).toBe('closed');
  });

  it('opens on a provider-wide outage, whatever the cards, and closes after a successful probe', async () => {
    const { fake, provider } = resilientFake();
    fake.simulateOutage(true);
    for (let i = 0; i < SHORT_POLICY.breakerThreshold; i++) {
      await expect(provider.charge(charge('tok_visa', `outage-${i}`))).rejects.toMatchObject({ reason: 'timeout' });
    }
    expect(provider.circuitState).toBe('open');
    await expect(provider.charge(charge('tok_visa', 'while-open'))).rejects.toMatchObject({ reason: 'circuit_open' });
    fake.simulateOutage(false);
    await new Promise((resolve) => setTimeout(resolve, SHORT_POLICY.breakerHalfOpenAfterMs + 20));
    expect(await provider.charge(charge('tok_visa', 'probe'))).toMatchObject({ outcome: 'captured' });
    expect(provider.circuitState).toBe('closed');
  });

  it('sizes leases beyond the worst-case call', () => {
    expect(worstCaseCallMs(SHORT_POLICY)).toBe(60 * 3 + 20 * 2);
  });
});
