import type { Logger } from '@commerce/platform';
import type { Clock, IdGenerator } from '../ports/clock.ts';
import type { PaymentMethodRepository } from '../ports/payment-method-repository.ts';
import type { PaymentProvider } from '../ports/payment-provider.ts';
import type { PaymentRepository } from '../ports/payment-repository.ts';

export interface SettlementTiming {
  /**
   * How long one worker may talk to the provider for a payment or refund before another may take over.
   * Must exceed the provider policy's worst case (timeouts × attempts + backoff).
   */
  attemptLeaseMs: number;
  /** How often a caller waiting for another worker's attempt looks again. */
  pollIntervalMs: number;
}

/** What billing's use cases depend on: ports only, wired in main.ts. */
export interface BillingDeps {
  payments: PaymentRepository;
  methods: PaymentMethodRepository;
  /** Already wrapped in timeout, retries and circuit breaker. */
  provider: PaymentProvider;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  timing: SettlementTiming;
}

export const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
