/** Helpers for billing's integration and embedded tests: a billing service with captured logs. */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger } from '@commerce/platform';
import { createServiceRuntime } from '@commerce/runtime';
import { bearer, subgraphAccessHeaders, testJwtEnv } from '@commerce/testkit';
import { startService, type BillingService, type BillingOverrides } from '../src/main.ts';

export interface CapturedLogs {
  lines: string[];
  text(): string;
}

export interface BillingUnderTest {
  service: BillingService;
  logs: CapturedLogs;
  graphql<Data = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    userId?: string,
    role?: 'CUSTOMER' | 'ADMIN',
  ): Promise<{ status: number; data?: Data; errors?: { message: string; extensions?: Record<string, unknown> }[] }>;
  /** A saved card for `userId` (through the GraphQL API, as a client would save it). */
  addCard(userId: string, token?: string): Promise<string>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/** Starts billing alone on `databaseUrl` (a real PostgreSQL database or pglite:memory), logging at debug level into memory. */
export async function startBilling(
  databaseUrl: string,
  env: Record<string, string> = {},
  overrides: BillingOverrides = {},
): Promise<BillingUnderTest> {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ service: 'billing', level: 'debug', destination });
  const runtime = await createServiceRuntime('billing', {
    logger,
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'debug',
      HOST: '127.0.0.1',
      BILLING_PORT: '0',
      BILLING_DATABASE_URL: databaseUrl,
      ...testJwtEnv(),
      ...env,
    },
  });
  const service = await startService(runtime, overrides);

  const graphql: BillingUnderTest['graphql'] = async (query, variables, userId, role = 'CUSTOMER') => {
    const response = await fetch(service.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...subgraphAccessHeaders('billing'),
        ...(userId ? { authorization: bearer(userId, role) } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: never; errors?: never };
    return { status: response.status, ...body };
  };

  return {
    service,
    logs: { lines, text: () => lines.join('\n') },
    graphql,
    async addCard(userId, token = 'tok_visa') {
      const result = await graphql<{ addPaymentMethod: { id: string } }>(
        'mutation ($token: String!) { addPaymentMethod(token: $token) { id } }',
        { token },
        userId,
      );
      if (!result.data?.addPaymentMethod) throw new Error(`addPaymentMethod failed: ${JSON.stringify(result.errors)}`);
      return result.data.addPaymentMethod.id;
    },
    async metric(name, labels = {}) {
      const metrics = await runtime.metrics.registry.getMetricsAsJSON();
      const found = metrics.find((metric) => name.startsWith(metric.name));
      const values = (found?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[];
      return values
        .filter((v) => (v.metricName ?? name) === name && Object.entries(labels).every(([key, value]) => v.labels[key] === value))
        .reduce((sum, v) => sum + v.value, 0);
    },
    stop: () => service.stop(),
  };
}

export const newOrderId = () => `order-${randomUUID()}`;
export const newUserId = () => `user-${randomUUID()}`;
