import {
  decorrelatedJitterGenerator,
  ExponentialBackoff,
  handleType,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import { Counter, errorSummary, Gauge, Histogram, type Logger, type Registry } from '@commerce/platform';
import { redactCardNumbers } from '@commerce/platform/card-numbers';
import type { CardDetails } from '../../domain/payment-method.ts';
import {
  ProviderTransientError,
  ProviderUnavailableError,
  type ChargePayer,
  type ChargeRequest,
  type ChargeResult,
  type DescribeRequest,
  type PaymentMethodStanding,
  type PaymentProvider,
  type ProviderRefundRequest,
  type ProviderRefundResult,
} from '../../ports/payment-provider.ts';
import { CardBackoff, ProviderCircuit, type CircuitStateName, type Now } from './failure-isolation.ts';

export interface ProviderPolicySettings {
  /** Longest wait for one provider answer. */
  timeoutMs: number;
  /** Extra attempts after a transient failure (never after a decline, a timeout or an open circuit). */
  maxRetries: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  /** Failed calls in a row (no successful answer between them) that open the circuit... */
  breakerThreshold: number;
  /**
   * ...when they came from at least this many distinct customers: one customer's card is not an outage.
   * Only failures with standing count (cards that paid before, refunds): see failure-isolation.ts.
   */
  breakerMinCustomers: number;
  /** Failures older than this no longer count towards opening the circuit. */
  breakerWindowMs: number;
  /** How long an open circuit fails fast before letting one probe call through (half-open). */
  breakerHalfOpenAfterMs: number;
  /** Failed charges of one card in a row (timeouts, errors, declines) after which that card alone is refused. */
  cardFailureThreshold: number;
  /** How long such a card is refused first; doubles with each further failure, up to cardBackoffMaxMs. */
  cardBackoffMs: number;
  cardBackoffMaxMs: number;
  /** Cards whose failures or standing are remembered at most (least recently used forgotten first). */
  cardsTracked: number;
}

export const DEFAULT_PROVIDER_POLICY: ProviderPolicySettings = {
  timeoutMs: 5_000,
  maxRetries: 3,
  retryInitialDelayMs: 100,
  retryMaxDelayMs: 2_000,
  breakerThreshold: 5,
  breakerMinCustomers: 3,
  breakerWindowMs: 60_000,
  breakerHalfOpenAfterMs: 30_000,
  cardFailureThreshold: 3,
  cardBackoffMs: 30_000,
  cardBackoffMaxMs: 600_000,
  cardsTracked: 10_000,
};

/** The longest one call through the policy can take; leases on payments and refunds must outlast it. */
export const worstCaseCallMs = (settings: ProviderPolicySettings): number =>
  settings.timeoutMs * (settings.maxRetries + 1) + settings.retryMaxDelayMs * settings.maxRetries;

// cockatiel 3.2.1's isTaskCancelledError() tests the wrong property (always false): check the class.
const isTimeout = (error: unknown) => error instanceof TaskCancelledError;

type Operation = 'describe_payment_method' | 'charge' | 'refund';

/**
 * Who a call is for: the customer (the circuit's failure source); the saved card for charges (its back-off
 * and standing); `standing` when the operation itself settles it (refunds have it, saving a card has not).
 */
interface Caller {
  customerId: string;
  card?: string;
  standing?: boolean;
}
type AttemptOutcome = 'success' | 'declined' | 'transient_error' | 'timeout' | 'error';

/** The gauge's values, unchanged from the cockatiel breaker the dashboards and alerts were built on. */
const CIRCUIT_STATE_VALUES: Record<CircuitStateName, number> = { closed: 0, open: 1, half_open: 2 };

export interface ProviderMetrics {
  circuitState: Gauge<'provider'>;
  retries: Counter<'provider' | 'operation'>;
  cardRefusals: Counter<'provider'>;
  latency: Histogram<'provider' | 'operation' | 'outcome'>;
}

/** Registers the provider metrics once per registry (one registry per service). */
export function createProviderMetrics(registry: Registry): ProviderMetrics {
  return {
    circuitState: new Gauge({
      name: 'billing_provider_circuit_state',
      help: 'Payment provider circuit breaker state: 0 closed, 1 open, 2 half-open',
      labelNames: ['provider'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'billing_provider_retries_total',
      help: 'Payment provider calls retried after a transient failure',
      labelNames: ['provider', 'operation'] as const,
      registers: [registry],
    }),
    cardRefusals: new Counter({
      name: 'billing_provider_card_refusals_total',
      help: 'Charges refused without calling the provider because that card kept failing (its own back-off)',
      labelNames: ['provider'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'billing_provider_request_duration_seconds',
      help: 'Latency of single payment provider attempts, by operation and outcome',
      labelNames: ['provider', 'operation', 'outcome'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

/**
 * Wraps the real (or fake) provider in resilience policies: every attempt has a timeout; transient
 * failures are retried with exponential backoff and decorrelated jitter (cockatiel); failures open a
 * circuit so an outage fails fast instead of piling up requests. Retries are safe because every
 * money-moving call carries the same idempotency key on every attempt.
 *
 * Failures stay with whoever they belong to (failure-isolation.ts): a charge names its card and
 * customer; a card that keeps failing is refused on its own for a while, and the circuit opens only
 * when cards that paid before (or refunds) fail for several customers — a card that never worked, or
 * saving a new one, is not evidence against the provider, however many free accounts send them.
 * Declines are answers: they never count against the provider (only against the card that keeps being declined).
 *
 * Callers only ever see the provider's own answers or a ProviderUnavailableError.
 */
export class ResilientPaymentProvider implements PaymentProvider {
  readonly name: string;
  private readonly circuit: ProviderCircuit;
  private readonly cards: CardBackoff;
  private readonly attemptTimeout: TimeoutPolicy;
  private readonly retries: Record<Operation, RetryPolicy>;

  constructor(
    private readonly inner: PaymentProvider,
    private readonly settings: ProviderPolicySettings,
    private readonly logger: Logger,
    private readonly metrics: ProviderMetrics,
    /** Where a card's earlier successful charges are looked up when this process has not seen one. */
    private readonly standing: PaymentMethodStanding,
    now: Now = Date.now,
  ) {
    this.name = inner.name;
    this.attemptTimeout = timeout(settings.timeoutMs, TimeoutStrategy.Aggressive);
    this.circuit = new ProviderCircuit(
      {
        failureThreshold: settings.breakerThreshold,
        minDistinctSources: settings.breakerMinCustomers,
        windowMs: settings.breakerWindowMs,
        halfOpenAfterMs: settings.breakerHalfOpenAfterMs,
      },
      now,
    );
    this.cards = new CardBackoff(
      {
        failureThreshold: settings.cardFailureThreshold,
        backoffMs: settings.cardBackoffMs,
        maxBackoffMs: settings.cardBackoffMaxMs,
        capacity: settings.cardsTracked,
      },
      now,
    );
    this.metrics.circuitState.set({ provider: this.name }, CIRCUIT_STATE_VALUES.closed);
    this.circuit.onStateChange((state) => this.onCircuitStateChange(state));
    this.retries = {
      describe_payment_method: this.retryPolicy('describe_payment_method'),
      charge: this.retryPolicy('charge'),
      refund: this.retryPolicy('refund'),
    };
  }

  /** 'closed' | 'open' | 'half_open' (for readiness pages and tests). */
  get circuitState(): CircuitStateName {
    return this.circuit.state;
  }

  /** A token nobody has charged yet: its failures are the customer's, never evidence against the provider. */
  describePaymentMethod(request: DescribeRequest): Promise<CardDetails | null> {
    return this.call(
      'describe_payment_method',
      (signal) => this.inner.describePaymentMethod(request, signal),
      () => 'success',
      { customerId: request.customerId },
    );
  }

  charge(request: ChargeRequest): Promise<ChargeResult> {
    return this.call(
      'charge',
      (signal) => this.inner.charge(request, signal),
      (result) => (result.outcome === 'declined' ? 'declined' : 'success'),
      { customerId: request.payer.customerId, card: request.payer.paymentMethodId },
    );
  }

  /** Refunds a charge this provider captured: a failure has standing, counted under the payment's customer. */
  refund(request: ProviderRefundRequest): Promise<ProviderRefundResult> {
    return this.call(
      'refund',
      (signal) => this.inner.refund(request, signal),
      (result) => (result.outcome === 'rejected' ? 'declined' : 'success'),
      { customerId: request.customerId, standing: true },
    );
  }

  private retryPolicy(operation: Operation): RetryPolicy {
    const policy = retry(handleType(ProviderTransientError), {
      maxAttempts: this.settings.maxRetries,
      backoff: new ExponentialBackoff({
        initialDelay: this.settings.retryInitialDelayMs,
        maxDelay: this.settings.retryMaxDelayMs,
        generator: decorrelatedJitterGenerator,
      }),
    });
    policy.onRetry((event) => {
      this.metrics.retries.inc({ provider: this.name, operation });
      const reason = 'error' in event ? redactCardNumbers(event.error.message) : 'unexpected result';
      this.logger.warn(
        { provider: this.name, operation, attempt: event.attempt, delayMs: Math.round(event.delay), reason },
        'retrying payment provider call after a transient failure',
      );
    });
    policy.onGiveUp((event) => {
      const reason = 'error' in event ? redactCardNumbers(event.error.message) : 'unexpected result';
      this.logger.warn({ provider: this.name, operation, reason }, 'payment provider call failed after retries');
    });
    return policy;
  }

  private async call<Result>(
    operation: Operation,
    attempt: (signal: AbortSignal) => Promise<Result>,
    classify: (result: Result) => AttemptOutcome,
    caller: Caller,
  ): Promise<Result> {
    const payer = caller.card === undefined ? undefined : { customerId: caller.customerId, paymentMethodId: caller.card };
    if (payer) this.refuseCardInBackoff(operation, payer);
    await this.admit(operation);
    let result: Result;
    try {
      result = await this.retries[operation].execute(({ signal }) => this.timedAttempt(operation, attempt, classify, signal));
    } catch (error) {
      const standing = caller.standing ?? (payer ? await this.cardHasStanding(payer) : false);
      this.circuit.recordFailure(caller.customerId, standing);
      if (payer) this.cardFailed(operation, payer);
      throw this.unavailable(operation, error);
    }
    this.circuit.recordSuccess(); // the provider answered, a decline too
    if (payer) {
      if (classify(result) === 'declined') this.cardFailed(operation, payer);
      else this.cards.recordSuccess(payer.paymentMethodId);
    }
    return result;
  }

  /**
   * Whether this card paid before: remembered per card, else asked of the database (only on a failure, and
   * positive answers are remembered). If the database cannot answer either, the failure is not counted:
   * the circuit must not open on evidence nobody has.
   */
  private async cardHasStanding(payer: ChargePayer): Promise<boolean> {
    if (this.cards.hasStanding(payer.paymentMethodId)) return true;
    try {
      const standing = await this.standing.hasCapturedPayment(payer.paymentMethodId);
      if (standing) this.cards.markStanding(payer.paymentMethodId);
      return standing;
    } catch (error) {
      this.logger.warn(
        { provider: this.name, paymentMethodId: payer.paymentMethodId, err: errorSummary(error) },
        "could not look up the card's earlier charges: its failure is not counted against the provider",
      );
      return false;
    }
  }

  /** Open: refused at once. Half-open: waits for the probe's answer, then goes ahead if it closed the circuit. */
  private async admit(operation: Operation): Promise<void> {
    while (!this.circuit.admit()) {
      if (this.circuit.state !== 'half_open') {
        this.logger.warn({ provider: this.name, operation }, 'payment provider call refused: circuit open');
        throw new ProviderUnavailableError('circuit_open', 'The payment provider circuit is open');
      }
      await this.circuit.probed();
    }
  }

  /** A card in its back-off is refused here: the provider is not asked, the circuit not touched. */
  private refuseCardInBackoff(operation: Operation, payer: ChargePayer): void {
    const retryAfterMs = this.cards.refusedFor(payer.paymentMethodId);
    if (retryAfterMs === 0) return;
    this.metrics.cardRefusals.inc({ provider: this.name });
    this.logger.warn(
      { provider: this.name, operation, paymentMethodId: payer.paymentMethodId, customerId: payer.customerId, retryAfterMs },
      'charge refused without calling the provider: this card keeps failing',
    );
    throw new ProviderUnavailableError('card_backoff', 'This card kept failing; it is refused for a while');
  }

  private cardFailed(operation: Operation, payer: ChargePayer): void {
    const backoffMs = this.cards.recordFailure(payer.paymentMethodId);
    if (backoffMs > 0) {
      this.logger.warn(
        { provider: this.name, operation, paymentMethodId: payer.paymentMethodId, customerId: payer.customerId, backoffMs },
        'card keeps failing: refusing its charges for a while',
      );
    }
  }

  /** One attempt under the timeout, observed in the latency histogram. */
  private async timedAttempt<Result>(
    operation: Operation,
    attempt: (signal: AbortSignal) => Promise<Result>,
    classify: (result: Result) => AttemptOutcome,
    signal: AbortSignal,
  ): Promise<Result> {
    const started = performance.now();
    let outcome: AttemptOutcome = 'error';
    try {
      const result = await this.attemptTimeout.execute(
        ({ signal: attemptSignal }) =>
          attempt(attemptSignal).catch((error: unknown) => {
            // An adapter that honours the signal rejects with its own abort error: it is still our timeout.
            throw attemptSignal.aborted && !signal.aborted
              ? new TaskCancelledError(`timed out after ${this.settings.timeoutMs}ms`)
              : error;
          }),
        signal,
      );
      outcome = classify(result);
      return result;
    } catch (error) {
      outcome = isTimeout(error) ? 'timeout' : error instanceof ProviderTransientError ? 'transient_error' : 'error';
      if (outcome === 'timeout') {
        this.logger.warn(
          { provider: this.name, operation, timeoutMs: this.settings.timeoutMs },
          'payment provider call timed out',
        );
      }
      throw error;
    } finally {
      this.metrics.latency.observe({ provider: this.name, operation, outcome }, (performance.now() - started) / 1000);
    }
  }

  private unavailable(operation: Operation, error: unknown): ProviderUnavailableError {
    if (error instanceof ProviderUnavailableError) return error;
    if (isTimeout(error)) return new ProviderUnavailableError('timeout', 'The payment provider did not answer in time');
    if (error instanceof ProviderTransientError) {
      return new ProviderUnavailableError('retries_exhausted', 'The payment provider kept failing');
    }
    const summary = errorSummary(error);
    this.logger.error(
      { provider: this.name, operation, err: { name: summary.name, message: redactCardNumbers(summary.message) } },
      'payment provider call failed',
    );
    return new ProviderUnavailableError('error', 'The payment provider call failed');
  }

  private onCircuitStateChange(state: CircuitStateName): void {
    this.metrics.circuitState.set({ provider: this.name }, CIRCUIT_STATE_VALUES[state]);
    const fields = { provider: this.name, circuit: state };
    if (state === 'open') {
      this.logger.error(
        { ...fields, halfOpenAfterMs: this.settings.breakerHalfOpenAfterMs },
        'payment provider circuit opened: calls fail fast until a probe succeeds',
      );
    } else if (state === 'half_open') {
      this.logger.warn(fields, 'payment provider circuit half-open: probing with the next call');
    } else {
      this.logger.info(fields, 'payment provider circuit closed: calls flow again');
    }
  }
}
