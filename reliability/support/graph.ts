/**
 * What the reliability suite shares: the real supergraph schema (so new operations are covered
 * automatically), principals with real accounts, and A-owned fixtures created through the graph.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, type GraphQLSchema } from 'graphql';
import { bearer, type TestStack } from '@commerce/testkit';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function loadSupergraph(): GraphQLSchema {
  const sdl = readFileSync(path.join(REPO_ROOT, 'gateway', 'supergraph.graphql'), 'utf8');
  // The supergraph declares its join/link directives, so it builds as plain SDL.
  return buildSchema(sdl, { assumeValidSDL: true });
}

export function rootFieldNames(schema: GraphQLSchema, root: 'query' | 'mutation'): string[] {
  const type = root === 'query' ? schema.getQueryType() : schema.getMutationType();
  return Object.keys(type?.getFields() ?? {}).sort();
}

export interface GraphResponse<Data = Record<string, unknown>> {
  status: number;
  body: { data?: Data | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** The seeded demo admin (embedded mode), a real account so `me` and field rules apply as in production. */
export const DEMO_ADMIN_ID = 'a0000000-0000-4000-8000-000000000001';

export const PASSWORD = 'a perfectly fine passphrase';

export interface Customer {
  userId: string;
  email: string;
  token: string;
  refreshToken: string;
}

export async function registerCustomer(stack: TestStack, label: string, password = PASSWORD): Promise<Customer> {
  const email = `${label}-${randomUUID()}@example.com`;
  const result = await stack.query<{ register: { accessToken: string; refreshToken: string; user: { id: string } } }>(
    'mutation ($email: String!, $password: String!) { register(email: $email, password: $password, name: "Rel Iability") { accessToken refreshToken user { id } } }',
    { email, password },
  );
  const payload = result.body.data?.register;
  if (!payload) throw new Error(`register failed: ${JSON.stringify(result.body.errors)}`);
  return { userId: payload.user.id, email, token: `Bearer ${payload.accessToken}`, refreshToken: payload.refreshToken };
}

export const adminToken = () => bearer(DEMO_ADMIN_ID, 'ADMIN');

/** Runs a request and fails loudly when it does not succeed: fixtures must exist for the matrix to mean anything. */
export async function must<Data>(
  stack: TestStack,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<Data> {
  const result = await stack.query<Data>(query, variables, token ? { authorization: token } : {});
  if (result.body.errors?.length || !result.body.data) {
    throw new Error(`fixture request failed: ${query}\n${JSON.stringify(result.body.errors)}`);
  }
  return result.body.data;
}

export async function waitFor<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const ADDRESS_INPUT = {
  label: 'Home',
  recipientName: 'Rel Iability',
  line1: '1 Test Street',
  city: 'Springfield',
  postalCode: '12345',
  country: 'US',
};

/** Creates things owned by one customer through the graph. */
export class Owner {
  constructor(
    private readonly stack: TestStack,
    readonly customer: Customer,
  ) {}

  async address(): Promise<string> {
    const data = await must<{ addAddress: { id: string } }>(
      this.stack,
      'mutation ($input: AddressInput!) { addAddress(input: $input) { id } }',
      { input: ADDRESS_INPUT },
      this.customer.token,
    );
    return data.addAddress.id;
  }

  async paymentMethod(): Promise<string> {
    const data = await must<{ addPaymentMethod: { id: string } }>(
      this.stack,
      'mutation { addPaymentMethod(token: "tok_visa") { id } }',
      {},
      this.customer.token,
    );
    return data.addPaymentMethod.id;
  }

  async addToCart(productId: string, quantity = 1): Promise<void> {
    await must(
      this.stack,
      'mutation ($id: ID!, $q: Int!) { addToCart(productId: $id, quantity: $q) { itemCount } }',
      { id: productId, q: quantity },
      this.customer.token,
    );
  }

  /** A PENDING order (the saga then prices, reserves and charges it). */
  async order(productId: string, paymentMethodId: string, addressId: string): Promise<string> {
    await this.addToCart(productId);
    const data = await must<{ checkout: { id: string } }>(
      this.stack,
      'mutation ($pm: ID!, $address: ID!, $key: String!) { checkout(paymentMethodId: $pm, shippingAddressId: $address, idempotencyKey: $key) { id } }',
      { pm: paymentMethodId, address: addressId, key: randomUUID() },
      this.customer.token,
    );
    return data.checkout.id;
  }

  /** Waits for the saga to settle the order; returns its status and payment id. */
  async settled(orderId: string): Promise<{ status: string; paymentId: string | undefined }> {
    return waitFor(
      async () => {
        const data = await must<{ order: { status: string; payment: { id: string } | null } }>(
          this.stack,
          'query ($id: ID!) { order(id: $id) { status payment { id } } }',
          { id: orderId },
          this.customer.token,
        );
        if (data.order.status === 'PENDING') return undefined;
        return { status: data.order.status, paymentId: data.order.payment?.id };
        // Generous: fresh consumer groups on new (prefixed) topics join slowly on a busy CI machine.
      },
      `order ${orderId} to leave PENDING`,
      90_000,
    );
  }
}
