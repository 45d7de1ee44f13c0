import { parseConfig, z } from '@commerce/platform';
import { DEFAULT_PROVIDER_POLICY, type ProviderPolicySettings } from './adapters/provider/resilient-payment-provider.ts';

const milliseconds = (fallback: number) => z.coerce.number().int().min(1).max(3_600_000).default(fallback);
const count = (fallback: number, max: number) => z.coerce.number().int().min(0).max(max).default(fallback);

/** Billing's own settings (documented in docs/configuration.md). */
export function loadBillingConfig(env: Record<string, string | undefined>) {
  const raw = parseConfig(
    {
      // Only the fake exists today; a real adapter adds its name here (see src/adapters/provider/real/).
      BILLING_PROVIDER: z.enum(['fake']).default('fake'),
      BILLING_PROVIDER_TIMEOUT_MS: milliseconds(DEFAULT_PROVIDER_POLICY.timeoutMs),
      BILLING_PROVIDER_MAX_RETRIES: count(DEFAULT_PROVIDER_POLICY.maxRetries, 10),
      BILLING_PROVIDER_RETRY_INITIAL_DELAY_MS: milliseconds(DEFAULT_PROVIDER_POLICY.retryInitialDelayMs),
      BILLING_PROVIDER_RETRY_MAX_DELAY_MS: milliseconds(DEFAULT_PROVIDER_POLICY.retryMaxDelayMs),
      BILLING_BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(1000).default(DEFAULT_PROVIDER_POLICY.breakerThreshold),
      BILLING_BREAKER_MIN_CUSTOMERS: z.coerce
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(DEFAULT_PROVIDER_POLICY.breakerMinCustomers),
      BILLING_BREAKER_WINDOW_MS: milliseconds(DEFAULT_PROVIDER_POLICY.breakerWindowMs),
      BILLING_BREAKER_HALF_OPEN_MS: milliseconds(DEFAULT_PROVIDER_POLICY.breakerHalfOpenAfterMs),
      BILLING_CARD_FAILURE_THRESHOLD: z.coerce
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(DEFAULT_PROVIDER_POLICY.cardFailureThreshold),
      BILLING_CARD_BACKOFF_MS: milliseconds(DEFAULT_PROVIDER_POLICY.cardBackoffMs),
      BILLING_CARD_BACKOFF_MAX_MS: milliseconds(DEFAULT_PROVIDER_POLICY.cardBackoffMaxMs),
    },
    env,
  );
  const policy: ProviderPolicySettings = {
    timeoutMs: raw.BILLING_PROVIDER_TIMEOUT_MS,
    maxRetries: raw.BILLING_PROVIDER_MAX_RETRIES,
    retryInitialDelayMs: raw.BILLING_PROVIDER_RETRY_INITIAL_DELAY_MS,
    retryMaxDelayMs: Math.max(raw.BILLING_PROVIDER_RETRY_MAX_DELAY_MS, raw.BILLING_PROVIDER_RETRY_INITIAL_DELAY_MS),
    breakerThreshold: raw.BILLING_BREAKER_THRESHOLD,
    breakerMinCustomers: raw.BILLING_BREAKER_MIN_CUSTOMERS,
    breakerWindowMs: raw.BILLING_BREAKER_WINDOW_MS,
    breakerHalfOpenAfterMs: raw.BILLING_BREAKER_HALF_OPEN_MS,
    cardFailureThreshold: raw.BILLING_CARD_FAILURE_THRESHOLD,
    cardBackoffMs: raw.BILLING_CARD_BACKOFF_MS,
    cardBackoffMaxMs: Math.max(raw.BILLING_CARD_BACKOFF_MAX_MS, raw.BILLING_CARD_BACKOFF_MS),
    cardsTracked: DEFAULT_PROVIDER_POLICY.cardsTracked,
  };
  return { provider: raw.BILLING_PROVIDER, policy };
}

export type BillingConfig = ReturnType<typeof loadBillingConfig>;
