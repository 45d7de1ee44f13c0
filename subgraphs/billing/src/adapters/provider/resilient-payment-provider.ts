import {
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  decorrelatedJitterGenerator,
  ExponentialBackoff,
  handleAll,
  handleType,
  isBrokenCircuitError,
  isIsolatedCircuitError,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
  type RetryPolicy,
  type TimeoutPolicy,
} from 'cockatiel';
import { Counter, errorSummary, Gauge, Histogram, type Logger, type Registry } from '@commerce/platform';
import { redactCardNumbers } from '@commerce/platform/card-numbers';
import type { CardDetails } from '../../domain/payment-method.ts';
import {
  ProviderTransientError,
  ProviderUnavailableError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentProvider,
  type ProviderRefundRequest,
  type ProviderRefundResult,
} from '../../ports/payment-provider.ts';

export interface ProviderPolicySettings {
  /** Longest wait for one provider answer. */
  timeoutMs: number;
  /** Extra attempts after a transient failure (never after a decline, a timeout or an open circuit). */
  maxRetries: number;
  retryInitialDelayMs: number;
  retryMaxDelayMs: number;
  /** Consecutive failed calls that open the circuit. */
  breakerThreshold: number;
  /** How long an open circuit fails fast before letting one probe call through (half-open). */
  breakerHalfOpenAfterMs: number;
}

export const DEFAULT_PROVIDER_POLICY: ProviderPolicySettings = {
  timeoutMs: 5_000,
  maxRetries: 3,
  retryInitialDelayMs: 100,
  retryMaxDelayMs: 2_000,
  breakerThreshold: 5,
  breakerHalfOpenAfterMs: 30_000,
};

/** The longest one call through the policy can take; leases on payments and refunds must outlast it. */
export const worstCaseCallMs = (settings: ProviderPolicySettings): number =>
  settings.timeoutMs * (settings.maxRetries + 1) + settings.retryMaxDelayMs * settings.maxRetries;

// cockatiel 3.2.1's isTaskCancelledError() tests the wrong property (always false): check the class.
const isTimeout = (error: unknown) => error instanceof TaskCancelledError;

type Operation = 'describe_payment_method' | 'charge' | 'refund';
type AttemptOutcome = 'success' | 'declined' | 'transient_error' | 'timeout' | 'error';

const CIRCUIT_STATE_NAMES: Record<CircuitState, string> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

export interface ProviderMetrics {
  circuitState: Gauge<'provider'>;
  retries: Counter<'provider' | 'operation'>;
  latency: Histogram<'provider' | 'operation' | 'outcome'>;
}

/** Registers the provider metrics once per registry (one registry per service). */
export function createProviderMetrics(registry: Registry): ProviderMetrics {
  return {
    circuitState: new Gauge({
      name: 'billing_provider_circuit_state',
      help: 'Payment provider circuit breaker state: 0 closed, 1 open, 2 half-open, 3 isolated',
      labelNames: ['provider'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'billing_provider_retries_total',
      help: 'Payment provider calls retried after a transient failure',
      labelNames: ['provider', 'operation'] as const,
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
 * Wraps the real (or fake) provider in cockatiel policies: every attempt has a timeout; transient
 * failures are retried with exponential backoff and decorrelated jitter; consecutive failures open a
 * circuit breaker so an outage fails fast instead of piling up requests. Retries are safe because
 * every money-moving call carries the same idempotency key on every attempt.
 *
 * Callers only ever see the provider's own answers or a ProviderUnavailableError.
 */
export class ResilientPaymentProvider implements PaymentProvider {
  readonly name: string;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly attemptTimeout: TimeoutPolicy;
  private readonly policies: Record<Operation, IPolicy>;

  constructor(
    private readonly inner: PaymentProvider,
    private readonly settings: ProviderPolicySettings,
    private readonly logger: Logger,
    private readonly metrics: ProviderMetrics,
  ) {
    this.name = inner.name;
    this.attemptTimeout = timeout(settings.timeoutMs, TimeoutStrategy.Aggressive);
    // Declines are results, not errors: only real failures count towards opening the circuit.
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: settings.breakerHalfOpenAfterMs,
      breaker: new ConsecutiveBreaker(settings.breakerThreshold),
    });
    this.metrics.circuitState.set({ provider: this.name }, CircuitState.Closed);
    this.breaker.onStateChange((state) => this.onCircuitStateChange(state));
    this.policies = {
      describe_payment_method: wrap(this.retryPolicy('describe_payment_method'), this.breaker),
      charge: wrap(this.retryPolicy('charge'), this.breaker),
      refund: wrap(this.retryPolicy('refund'), this.breaker),
    };
  }

  /** 'closed' | 'open' | 'half_open' | 'isolated' (for readiness pages and tests). */
  get circuitState(): string {
    return CIRCUIT_STATE_NAMES[this.breaker.state];
  }

  describePaymentMethod(token: string): Promise<CardDetails | null> {
    return this.call('describe_payment_method', (signal) => this.inner.describePaymentMethod(token, signal));
  }

  charge(request: ChargeRequest): Promise<ChargeResult> {
    return this.call(
      'charge',
      (signal) => this.inner.charge(request, signal),
      (result) => (result.outcome === 'declined' ? 'declined' : 'success'),
    );
  }

  refund(request: ProviderRefundRequest): Promise<ProviderRefundResult> {
    return this.call(
      'refund',
      (signal) => this.inner.refund(request, signal),
      (result) => (result.outcome === 'rejected' ? 'declined' : 'success'),
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
    classify: (result: Result) => AttemptOutcome = () => 'success',
  ): Promise<Result> {
    try {
      return await this.policies[operation].execute(({ signal }) => this.timedAttempt(operation, attempt, classify, signal));
    } catch (error) {
      throw this.unavailable(operation, error);
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
    if (isBrokenCircuitError(error) || isIsolatedCircuitError(error)) {
      this.logger.warn({ provider: this.name, operation }, 'payment provider call refused: circuit open');
      return new ProviderUnavailableError('circuit_open', 'The payment provider circuit is open');
    }
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

  private onCircuitStateChange(state: CircuitState): void {
    this.metrics.circuitState.set({ provider: this.name }, state);
    const fields = { provider: this.name, circuit: CIRCUIT_STATE_NAMES[state] };
    if (state === CircuitState.Open) {
      this.logger.error(
        { ...fields, halfOpenAfterMs: this.settings.breakerHalfOpenAfterMs },
        'payment provider circuit opened: calls fail fast until a probe succeeds',
      );
    } else if (state === CircuitState.HalfOpen) {
      this.logger.warn(fields, 'payment provider circuit half-open: probing with the next call');
    } else if (state === CircuitState.Closed) {
      this.logger.info(fields, 'payment provider circuit closed: calls flow again');
    }
  }
}
