import { createHash } from 'node:crypto';
import type { CardDetails } from '../../domain/payment-method.ts';
import {
  ProviderTransientError,
  type ChargeRequest,
  type ChargeResult,
  type DescribeRequest,
  type PaymentProvider,
  type ProviderRefundRequest,
  type ProviderRefundResult,
} from '../../ports/payment-provider.ts';

type Behaviour = 'succeeds' | 'declined' | 'transient_once' | 'never_answers';

interface TestCard {
  brand: string;
  last4: string;
  behaviour: Behaviour;
}

/**
 * Test tokens, mirroring a real processor's test mode. Like real test mode, the behaviour belongs to
 * the card: saving any of them works; what differs is what happens when it is charged.
 */
export const FAKE_TEST_CARDS: Readonly<Record<string, TestCard>> = {
  tok_visa: { brand: 'VISA', last4: '4242', behaviour: 'succeeds' },
  tok_mastercard: { brand: 'MASTERCARD', last4: '4444', behaviour: 'succeeds' },
  tok_chargeDeclined: { brand: 'VISA', last4: '0002', behaviour: 'declined' },
  tok_transient: { brand: 'VISA', last4: '3220', behaviour: 'transient_once' },
  tok_timeout: { brand: 'VISA', last4: '0259', behaviour: 'never_answers' },
};

interface FakeCharge {
  chargeId: string;
  idempotencyKey: string;
  amountCents: number;
  currency: string;
  refundedCents: number;
}

interface Fingerprinted<Result> {
  fingerprint: string;
  result: Result;
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);

/**
 * The default payment provider: deterministic, in memory, no network. It honours idempotency keys the
 * way real processors do (same key → the first answer, never a second capture; same key with other
 * parameters → an error) and counts what happened so tests can assert "exactly one provider charge".
 */
export class FakePaymentProvider implements PaymentProvider {
  readonly name = 'fake';
  /** Answers already given, per idempotency key. */
  private readonly charges = new Map<string, Fingerprinted<ChargeResult>>();
  private readonly refunds = new Map<string, Fingerprinted<ProviderRefundResult>>();
  private readonly captured = new Map<string, FakeCharge>();
  private readonly transientFailuresSeen = new Set<string>();
  private readonly callsByKey = new Map<string, number>();
  private counters = { chargeCalls: 0, captures: 0, declines: 0, refundCalls: 0, refunds: 0 };
  private outage = false;

  constructor(private readonly clock: () => Date = () => new Date()) {}

  /**
   * Test seam for a provider-wide outage: while on, no call is answered (each hangs until its caller
   * gives up), whatever the card — unlike `tok_timeout`, which is one card's problem.
   */
  simulateOutage(on: boolean): void {
    this.outage = on;
  }

  async describePaymentMethod(request: DescribeRequest, signal?: AbortSignal): Promise<CardDetails | null> {
    if (this.outage) return waitForever(signal);
    const card = testCard(request.token);
    if (!card) return null;
    return { brand: card.brand, last4: card.last4, expMonth: 12, expYear: this.clock().getUTCFullYear() + 3 };
  }

  async charge(request: ChargeRequest, signal?: AbortSignal): Promise<ChargeResult> {
    this.counters.chargeCalls += 1;
    this.callsByKey.set(request.idempotencyKey, (this.callsByKey.get(request.idempotencyKey) ?? 0) + 1);
    if (this.outage) return waitForever(signal);
    const fingerprint = `${request.paymentToken}|${request.amountCents}|${request.currency}`;
    const earlier = this.charges.get(request.idempotencyKey);
    if (earlier) return this.replay(earlier, fingerprint);

    const card = testCard(request.paymentToken);
    if (!card)
      return this.remember(this.charges, request.idempotencyKey, fingerprint, this.decline('invalid_token', 'No such token'));
    switch (card.behaviour) {
      case 'never_answers':
        return waitForever(signal);
      case 'transient_once':
        if (!this.transientFailuresSeen.has(request.idempotencyKey)) {
          this.transientFailuresSeen.add(request.idempotencyKey);
          throw new ProviderTransientError('fake provider: temporary processing error (try again)');
        }
        return this.remember(this.charges, request.idempotencyKey, fingerprint, this.capture(request));
      case 'declined':
        return this.remember(
          this.charges,
          request.idempotencyKey,
          fingerprint,
          this.decline('card_declined', 'Your card was declined'),
        );
      case 'succeeds':
        return this.remember(this.charges, request.idempotencyKey, fingerprint, this.capture(request));
    }
  }

  async refund(request: ProviderRefundRequest, signal?: AbortSignal): Promise<ProviderRefundResult> {
    this.counters.refundCalls += 1;
    if (this.outage) return waitForever(signal);
    const fingerprint = `${request.chargeId}|${request.amountCents}|${request.currency}`;
    const earlier = this.refunds.get(request.idempotencyKey);
    if (earlier) return this.replay(earlier, fingerprint);
    const charge = [...this.captured.values()].find((candidate) => candidate.chargeId === request.chargeId);
    if (!charge && !request.chargeId.startsWith('ch_fake_')) {
      return this.remember(this.refunds, request.idempotencyKey, fingerprint, reject('no_such_charge', 'No such charge'));
    }
    // A fake charge id this process does not know was made before a restart (state lives in memory): accepted.
    if (charge) {
      if (request.currency !== charge.currency) {
        return this.remember(
          this.refunds,
          request.idempotencyKey,
          fingerprint,
          reject('currency_mismatch', 'Currency differs from the charge'),
        );
      }
      if (charge.refundedCents + request.amountCents > charge.amountCents) {
        return this.remember(
          this.refunds,
          request.idempotencyKey,
          fingerprint,
          reject('amount_too_large', 'Refund exceeds the charge'),
        );
      }
      charge.refundedCents += request.amountCents;
    }
    this.counters.refunds += 1;
    const result: ProviderRefundResult = { outcome: 'refunded', refundId: `re_fake_${digest(request.idempotencyKey)}` };
    return this.remember(this.refunds, request.idempotencyKey, fingerprint, result);
  }

  /** Captures made: the number tests compare with "one provider charge". */
  get chargeCount(): number {
    return this.counters.captures;
  }

  /** Every charge call that reached the provider, retries included. */
  get chargeCalls(): number {
    return this.counters.chargeCalls;
  }

  get declineCount(): number {
    return this.counters.declines;
  }

  get refundCount(): number {
    return this.counters.refunds;
  }

  get refundCalls(): number {
    return this.counters.refundCalls;
  }

  callsFor(idempotencyKey: string): number {
    return this.callsByKey.get(idempotencyKey) ?? 0;
  }

  /** Money captured and refunded on the charge made with this idempotency key. */
  chargeFor(idempotencyKey: string): Readonly<FakeCharge> | undefined {
    return this.captured.get(idempotencyKey);
  }

  private capture(request: ChargeRequest): ChargeResult {
    const chargeId = `ch_fake_${digest(request.idempotencyKey)}`;
    this.captured.set(request.idempotencyKey, {
      chargeId,
      idempotencyKey: request.idempotencyKey,
      amountCents: request.amountCents,
      currency: request.currency,
      refundedCents: 0,
    });
    this.counters.captures += 1;
    return { outcome: 'captured', chargeId };
  }

  private decline(code: string, message: string): ChargeResult {
    this.counters.declines += 1;
    return { outcome: 'declined', code, message };
  }

  private remember<Result>(store: Map<string, Fingerprinted<Result>>, key: string, fingerprint: string, result: Result): Result {
    store.set(key, { fingerprint, result });
    return result;
  }

  /** Real processors refuse a reused key with different parameters rather than guess which one was meant. */
  private replay<Result>(earlier: Fingerprinted<Result>, fingerprint: string): Result {
    if (earlier.fingerprint !== fingerprint) {
      throw new Error('fake provider: idempotency key reused with different parameters');
    }
    return earlier.result;
  }
}

const reject = (code: string, message: string): ProviderRefundResult => ({ outcome: 'rejected', code, message });

/** `tok_timeout`: the call hangs until the caller gives up (its abort signal), like a provider that never answers. */
function waitForever(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_resolve, fail) => {
    if (!signal) return; // nobody will ever stop waiting; the resilience layer always passes a signal
    const abort = () => fail(new Error('fake provider: request aborted by the caller'));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}

/** Own keys only: a token such as `__proto__` or `constructor` must not find Object.prototype's members. */
function testCard(token: string): TestCard | undefined {
  return Object.hasOwn(FAKE_TEST_CARDS, token) ? FAKE_TEST_CARDS[token] : undefined;
}
