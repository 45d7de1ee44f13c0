/**
 * Composition root of the billing subgraph: wires the Prisma adapters, the payment provider (behind
 * its timeout/retry/circuit-breaker policy), the outbox relay and the GraphQL adapter to the ports,
 * from a ServiceRuntime that configuration chose (embedded or full mode).
 */
import { runMain, type Logger, type RunningServer } from '@commerce/platform';
import type { OutboxRelay } from '@commerce/events';
import { createServiceRuntime, startOutboxRelay, startServiceServer, type ServiceRuntime } from '@commerce/runtime';
import { PrismaClient } from './generated/prisma/client.ts';
import { createBillingLoaders } from './adapters/graphql/loaders.ts';
import { resolvers, type BillingContext } from './adapters/graphql/resolvers.ts';
import { PrismaPaymentMethodRepository } from './adapters/prisma/prisma-payment-method-repository.ts';
import { PrismaPaymentRepository } from './adapters/prisma/prisma-payment-repository.ts';
import { FakePaymentProvider } from './adapters/provider/fake-payment-provider.ts';
import {
  createProviderMetrics,
  ResilientPaymentProvider,
  worstCaseCallMs,
  type ProviderPolicySettings,
} from './adapters/provider/resilient-payment-provider.ts';
import type { BillingDeps, SettlementTiming } from './application/billing-deps.ts';
import { chargeOrder, type ChargeOrderInput } from './application/charge-order.ts';
import { reconcileLedger, type LedgerReconciliation } from './application/reconcile-ledger.ts';
import { refundInFull, type RefundInFullInput, type RefundInFullResult } from './application/refund-in-full.ts';
import { loadBillingConfig, type BillingConfig } from './config.ts';
import { startBillingSaga } from './adapters/events/saga-consumer.ts';
import type { Payment } from './domain/payment.ts';
import { systemClock, uuidGenerator } from './ports/clock.ts';
import type { PaymentProvider } from './ports/payment-provider.ts';

export interface BillingService extends RunningServer {
  prisma: PrismaClient;
  deps: BillingDeps;
  /** The provider as use cases see it: wrapped in the resilience policies. */
  provider: ResilientPaymentProvider;
  /** The in-memory fake when BILLING_PROVIDER=fake (tests count its charges), otherwise null. */
  fakeProvider: FakePaymentProvider | null;
  relay: OutboxRelay;
  /** Use cases for event consumers (the order saga): StockReserved → chargeOrder, OrderCancelled → refundInFull. */
  chargeOrder(input: ChargeOrderInput): Promise<Payment>;
  refundInFull(input: RefundInFullInput): Promise<RefundInFullResult>;
  reconcileLedger(): Promise<LedgerReconciliation>;
}

/** Test seams: a different provider adapter or tighter policy settings than the environment's. */
export interface BillingOverrides {
  provider?: PaymentProvider;
  policy?: Partial<ProviderPolicySettings>;
  timing?: Partial<SettlementTiming>;
}

/** Picks the provider adapter. A real processor's adapter is added here (see src/adapters/provider/real/README.md). */
function createPaymentProvider(config: BillingConfig, logger: Logger, production: boolean): PaymentProvider {
  switch (config.provider) {
    case 'fake':
      if (production) logger.warn('billing uses the fake payment provider: no real money moves');
      return new FakePaymentProvider();
  }
}

export async function startService(runtime: ServiceRuntime, overrides: BillingOverrides = {}): Promise<BillingService> {
  const config = loadBillingConfig(runtime.env);
  const policy: ProviderPolicySettings = { ...config.policy, ...overrides.policy };
  const prisma = new PrismaClient({ adapter: runtime.database.adapter });
  // One query before anything runs concurrently: fails fast on a dead database, and loads Prisma's
  // lazily imported engine once (under jest's ESM loader, concurrent first imports of it can fail).
  await prisma.$queryRaw`SELECT 1`;
  // Publishes billing's outbox with the same settings and outbox_* metrics as every producer (startOutboxRelay).
  const relay = startOutboxRelay(runtime, prisma);
  const adapter = overrides.provider ?? createPaymentProvider(config, runtime.logger, runtime.config.production);
  const payments = new PrismaPaymentRepository(prisma, () => relay.notify());
  // The payments tell which cards paid before: only those cards' failures count against the provider.
  const provider = new ResilientPaymentProvider(
    adapter,
    policy,
    runtime.logger,
    createProviderMetrics(runtime.metrics.registry),
    payments,
  );
  const methods = new PrismaPaymentMethodRepository(prisma);
  const deps: BillingDeps = {
    payments,
    methods,
    provider,
    clock: systemClock,
    ids: uuidGenerator,
    logger: runtime.logger,
    timing: {
      // A worker's lease outlasts its worst-case provider call, so nobody takes over a live attempt.
      attemptLeaseMs: worstCaseCallMs(policy) + 5_000,
      pollIntervalMs: 25,
      ...overrides.timing,
    },
  };

  const server = await startServiceServer<BillingContext>(runtime, {
    schemaFile: new URL('./adapters/graphql/schema.graphql', import.meta.url),
    resolvers,
    context: (base) => ({ ...base, deps, loaders: createBillingLoaders(payments, methods) }),
    database: prisma,
  });
  // The order saga: StockReserved → charge, OrderCancelled → refund.
  const saga = await startBillingSaga(runtime, prisma, deps);
  runtime.logger.info({ provider: adapter.name, policy }, 'billing payment provider ready');

  return {
    ...server,
    prisma,
    deps,
    provider,
    fakeProvider: adapter instanceof FakePaymentProvider ? adapter : null,
    relay,
    chargeOrder: (input) => chargeOrder(deps, input),
    refundInFull: (input) => refundInFull(deps, input),
    reconcileLedger: () => reconcileLedger(deps),
    async stop() {
      await saga.stop();
      await server.stop();
      await relay.stop();
      await prisma.$disconnect();
      await runtime.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runMain('billing', undefined, async () => startService(await createServiceRuntime('billing')));
}
