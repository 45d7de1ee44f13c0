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
    expect(await provider.describePaymentMethod({ token: 'tok_visa', customerId: 'c1' })).toEqual({
      brand: 'VISA',
      last4: '4242',
      expMonth: 12,
      expYear: 2033,
    });
    expect(await provider.describePaymentMethod({ token: 'tok_mastercard', customerId: 'c1' })).toMatchObject({
      brand: 'MASTERCARD',
      last4: '4444',
    });
    expect(await provider.describePaymentMethod({ token: 'tok_unknown', customerId: 'c1' })).toBeNull();
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
    const request = { chargeId: captured.chargeId, amountCents: 600, currency: 'USD', idempotencyKey: 'r1', customerId: 'c1' };
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

/** Stands in for billing's payments table: which saved cards were charged before (another replica, last week). */
function paidBefore(...cards: string[]) {
  const known = new Set(cards);
  const lookups: string[] = [];
  return {
    known,
    lookups,
    async hasCapturedPayment(paymentMethodId: string) {
      lookups.push(paymentMethodId);
      return known.has(paymentMethodId);
    },
  };
}

function resilientFake(settings: ProviderPolicySettings = SHORT_POLICY, now: () => number = Date.now, standing = paidBefore()) {
  const fake = new FakePaymentProvider();
  const registry = new Registry();
  const logs = captureLogs();
  const provider = new ResilientPaymentProvider(fake, settings, logs.logger, createProviderMetrics(registry), standing, now);
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const found = (await registry.getMetricsAsJSON()).find((m) => name.startsWith(m.name));
    const values = (found?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[];
    return values
      .filter((v) => (v.metricName ?? name) === name && Object.entries(labels).every(([k, value]) => v.labels[k] === value))
      .reduce((sum, v) => sum + v.value, 0);
  };
  return { fake, provider, registry, logs, metric };
}

/** Customers whose cards were charged successfully once, through this provider: their cards have standing. */
async function regularCustomers(provider: ResilientPaymentProvider, count: number): Promise<ChargePayer[]> {
  const regulars: ChargePayer[] = [];
  for (let i = 0; i < count; i++) {
    const payer = newPayer();
    expect(await provider.charge(charge('tok_visa', `first-purchase-${payer.paymentMethodId}`, 1_000, payer))).toMatchObject({
      outcome: 'captured',
    });
    regulars.push(payer);
  }
  return regulars;
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
      paidBefore(),
    );
    const error = await provider.charge(charge('tok_visa', 'k')).catch((e: unknown) => e);
    expect((error as ProviderUnavailableError).reason).toBe('retries_exhausted');
    expect(failing.calls).toBe(SHORT_POLICY.maxRetries + 1);
  });

  it('opens the circuit after consecutive failures, fails fast, and closes again after a successful probe', async () => {
    const { fake, provider, logs, metric } = resilientFake();
    const regulars = await regularCustomers(provider, SHORT_POLICY.breakerThreshold);
    for (const [i, payer] of regulars.entries()) {
      await expect(provider.charge(charge('tok_timeout', `t-${i}`, 1_000, payer))).rejects.toMatchObject({ reason: 'timeout' });
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
    const regulars = await regularCustomers(provider, SHORT_POLICY.breakerThreshold + 1);
    for (let i = 0; i < SHORT_POLICY.breakerThreshold; i++) {
      await provider.charge(charge('tok_timeout', `t-${i}`, 1_000, regulars[i])).catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, SHORT_POLICY.breakerHalfOpenAfterMs + 20));
    const probe = regulars[SHORT_POLICY.breakerThreshold];
    await expect(provider.charge(charge('tok_timeout', 'probe', 1_000, probe))).rejects.toMatchObject({ reason: 'timeout' });
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
    // Two more customers whose cards paid before, and one of the many cards had paid too: three customers.
    const regulars = await regularCustomers(provider, SHORT_POLICY.breakerMinCustomers - 1);
    await provider.charge(
      charge('tok_visa', 'many-paid', 1_000, { customerId: 'customer-with-many-cards', paymentMethodId: 'pm-many-paid' }),
    );
    await provider
      .charge(
        charge('tok_timeout', 'many-paid-fails', 1_000, {
          customerId: 'customer-with-many-cards',
          paymentMethodId: 'pm-many-paid',
        }),
      )
      .catch(() => undefined);
    for (const [i, payer] of regulars.entries()) {
      await provider.charge(charge('tok_timeout', `others-${i}`, 1_000, payer)).catch(() => undefined);
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

  it('opens on a provider-wide outage, when cards that paid before fail, and closes after a successful probe', async () => {
    const { fake, provider } = resilientFake();
    const regulars = await regularCustomers(provider, SHORT_POLICY.breakerThreshold);
    fake.simulateOutage(true);
    for (const [i, payer] of regulars.entries()) {
      await expect(provider.charge(charge('tok_visa', `outage-${i}`, 1_000, payer))).rejects.toMatchObject({ reason: 'timeout' });
    }
    expect(provider.circuitState).toBe('open');
    await expect(provider.charge(charge('tok_visa', 'while-open'))).rejects.toMatchObject({ reason: 'circuit_open' });
    fake.simulateOutage(false);
    await new Promise((resolve) => setTimeout(resolve, SHORT_POLICY.breakerHalfOpenAfterMs + 20));
    expect(await provider.charge(charge('tok_visa', 'probe'))).toMatchObject({ outcome: 'captured' });
    expect(provider.circuitState).toBe('closed');
  });

  it('three free accounts with cards that never worked do not open the circuit, however many orders they place', async () => {
    let clock = 1_000_000;
    const standing = paidBefore();
    const { fake, provider } = resilientFake(SHORT_POLICY, () => clock, standing);
    const accounts = [newPayer(), newPayer(), newPayer()];
    for (let round = 0; round < 2; round++) {
      for (const [i, account] of accounts.entries()) {
        await expect(provider.charge(charge('tok_timeout', `sybil-${round}-${i}`, 1_000, account))).rejects.toMatchObject({
          reason: 'timeout',
        });
      }
      clock += 1_000; // well inside the window
    }
    expect(provider.circuitState).toBe('closed');
    // The database was asked whether those cards ever paid (they had not).
    expect(new Set(standing.lookups)).toEqual(new Set(accounts.map((account) => account.paymentMethodId)));
    const honest = newPayer();
    expect(await provider.charge(charge('tok_visa', 'honest', 1_000, honest))).toMatchObject({ outcome: 'captured' });
    expect(fake.chargeCount).toBe(1);
  });

  it('known-good cards failing across customers open the circuit, standing found in the database and then remembered', async () => {
    let clock = 1_000_000;
    const regulars = [newPayer(), newPayer(), newPayer()];
    // These cards paid before, but not through this process (another replica, before a restart).
    const standing = paidBefore(...regulars.map((payer) => payer.paymentMethodId));
    const { fake, provider, logs } = resilientFake(SHORT_POLICY, () => clock, standing);
    // New accounts' failing cards in between do not count, and do not hold the outage back either.
    await provider.charge(charge('tok_timeout', 'new-account', 1_000, newPayer())).catch(() => undefined);
    fake.simulateOutage(true);
    for (const [i, payer] of regulars.entries()) {
      clock += 1_000;
      await expect(provider.charge(charge('tok_visa', `regular-${i}`, 1_000, payer))).rejects.toMatchObject({
        reason: 'timeout',
      });
    }
    expect(provider.circuitState).toBe('open');
    expect(logs.text()).toContain('payment provider circuit opened');
    await expect(provider.charge(charge('tok_visa', 'while-open', 1_000, newPayer()))).rejects.toMatchObject({
      reason: 'circuit_open',
    });

    // Closed again by a probe; the next failure of a regular's card does not ask the database again.
    fake.simulateOutage(false);
    clock += SHORT_POLICY.breakerHalfOpenAfterMs;
    expect(await provider.charge(charge('tok_visa', 'probe', 1_000, newPayer()))).toMatchObject({ outcome: 'captured' });
    const lookups = standing.lookups.length;
    await provider.charge(charge('tok_timeout', 'regular-again', 1_000, regulars[0])).catch(() => undefined);
    expect(standing.lookups.length).toBe(lookups);
  });

  it('does not count a card whose earlier charges cannot be looked up (the database is down): no evidence, no outage', async () => {
    const failingLookup = {
      async hasCapturedPayment(): Promise<boolean> {
        throw new Error('connection refused');
      },
    };
    const { provider, logs } = resilientFake(SHORT_POLICY, Date.now, failingLookup as unknown as ReturnType<typeof paidBefore>);
    for (let i = 0; i < SHORT_POLICY.breakerThreshold * 2; i++) {
      await provider.charge(charge('tok_timeout', `no-db-${i}`)).catch(() => undefined);
    }
    expect(provider.circuitState).toBe('closed');
    expect(logs.text()).toContain('could not look up');
  });

  it("failures while saving a card are the customer's, never the provider's; refund failures count under the payment's customer", async () => {
    const fake = new FakePaymentProvider();
    const flaky = {
      name: 'flaky-describe-and-refund',
      charge: fake.charge.bind(fake),
      async describePaymentMethod(): Promise<null> {
        throw new ProviderTransientError('503 from provider');
      },
      async refund(): Promise<never> {
        throw new ProviderTransientError('503 from provider');
      },
    };
    const provider = new ResilientPaymentProvider(
      flaky,
      SHORT_POLICY,
      captureLogs().logger,
      createProviderMetrics(new Registry()),
      paidBefore(),
    );
    // One customer sending bad tokens over and over, then several customers: saving a card proves nothing.
    for (let i = 0; i < 10; i++) {
      await expect(provider.describePaymentMethod({ token: `tok_bad_${i}`, customerId: 'one-customer' })).rejects.toMatchObject({
        reason: 'retries_exhausted',
      });
    }
    for (let i = 0; i < 5; i++) {
      await provider.describePaymentMethod({ token: 'tok_visa', customerId: `customer-${i}` }).catch(() => undefined);
    }
    expect(provider.circuitState).toBe('closed');

    // Refunds of captured charges have standing: one customer's failures alone do not open it...
    const refund = (customerId: string, key: string) =>
      provider.refund({ chargeId: 'ch_fake_x', amountCents: 100, currency: 'USD', idempotencyKey: key, customerId });
    for (let i = 0; i < SHORT_POLICY.breakerThreshold * 2; i++) await refund('one-customer', `r-${i}`).catch(() => undefined);
    expect(provider.circuitState).toBe('closed');
    // ...several customers' do.
    for (let i = 1; i < SHORT_POLICY.breakerMinCustomers; i++)
      await refund(`customer-${i}`, `r-other-${i}`).catch(() => undefined);
    expect(provider.circuitState).toBe('open');
  });

  it('sizes leases beyond the worst-case call', () => {
    expect(worstCaseCallMs(SHORT_POLICY)).toBe(60 * 3 + 20 * 2);
  });
});
