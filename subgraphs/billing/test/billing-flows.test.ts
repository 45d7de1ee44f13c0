/**
 * Embedded flows through the whole graph (gateway + every subgraph on PGlite): a customer saves
 * cards, is charged for an order exactly once, sees the payment; an admin refunds it; the events
 * reach the bus through the outbox relay.
 */
import { randomUUID } from 'node:crypto';
import { bearer, startTestStack, type TestStack } from '@commerce/testkit';
import type { BillingService } from '../src/main.ts';

let stack: TestStack;
let billing: BillingService;

beforeAll(async () => {
  stack = await startTestStack();
  billing = stack.services.billing as BillingService;
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const ADMIN = bearer('admin-1', 'ADMIN');
const as = (token: string) => ({ authorization: token });

async function registerCustomer(): Promise<{ userId: string; token: string }> {
  const email = `billing-${randomUUID()}@example.com`;
  const result = await stack.query<{ register: { accessToken: string } }>(
    'mutation ($email: String!) { register(email: $email, password: "a perfectly fine passphrase", name: "Bill Ing") { accessToken } }',
    { email },
  );
  const token = result.body.data?.register.accessToken;
  if (!token) throw new Error(`register failed: ${JSON.stringify(result.body.errors)}`);
  const me = await stack.query<{ me: { id: string } }>('{ me { id } }', {}, as(`Bearer ${token}`));
  return { userId: me.body.data!.me.id, token: `Bearer ${token}` };
}

async function waitFor<T>(read: () => T | undefined, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const ADD_CARD =
  'mutation ($token: String!, $makeDefault: Boolean) { addPaymentMethod(token: $token, makeDefault: $makeDefault) { id brand last4 isDefault } }';
const MY_CARDS = '{ me { id paymentMethods { totalCount nodes { id brand last4 isDefault } } } }';

describe('payment methods through the gateway', () => {
  it('saves tokenized cards, lists them under me, switches the default and removes one', async () => {
    const customer = await registerCustomer();
    const visa = await stack.query<{ addPaymentMethod: { id: string } }>(ADD_CARD, { token: 'tok_visa' }, as(customer.token));
    expect(visa.body.data?.addPaymentMethod).toMatchObject({ brand: 'VISA', last4: '4242', isDefault: true });
    const mastercard = await stack.query<{ addPaymentMethod: { id: string } }>(
      ADD_CARD,
      { token: 'tok_mastercard', makeDefault: true },
      as(customer.token),
    );
    expect(mastercard.body.data?.addPaymentMethod).toMatchObject({ brand: 'MASTERCARD', isDefault: true });

    const cards = await stack.query<{
      me: { paymentMethods: { totalCount: number; nodes: { last4: string; isDefault: boolean }[] } };
    }>(MY_CARDS, {}, as(customer.token));
    expect(cards.body.data?.me.paymentMethods).toMatchObject({
      totalCount: 2,
      nodes: [
        { last4: '4444', isDefault: true },
        { last4: '4242', isDefault: false },
      ],
    });

    const removed = await stack.query(
      'mutation ($id: ID!) { removePaymentMethod(id: $id) }',
      { id: mastercard.body.data!.addPaymentMethod.id },
      as(customer.token),
    );
    expect(removed.body.errors).toBeUndefined();
    const after = await stack.query<{ me: { paymentMethods: { nodes: { last4: string; isDefault: boolean }[] } } }>(
      MY_CARDS,
      {},
      as(customer.token),
    );
    expect(after.body.data?.me.paymentMethods.nodes).toEqual([expect.objectContaining({ last4: '4242', isDefault: true })]);
  });

  it('refuses a card number with BAD_USER_INPUT and without echoing it', async () => {
    const customer = await registerCustomer();
    const result = await stack.query(ADD_CARD, { token: '4242 4242 4242 4242' }, as(customer.token));
    expect(result.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(result.body)).not.toContain('4242 4242');
  });

  it('asks anonymous callers to sign in', async () => {
    const result = await stack.query(ADD_CARD, { token: 'tok_visa' });
    expect(result.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('an order paid and refunded', () => {
  const PAYMENT =
    'query ($id: ID!) { payment(id: $id) { id status amount { amountCents currency } refunded { amountCents } paymentMethod { last4 } } }';

  it('charges once, shows the payment to its owner only, and lets an admin refund it', async () => {
    const customer = await registerCustomer();
    const card = await stack.query<{ addPaymentMethod: { id: string } }>(ADD_CARD, { token: 'tok_visa' }, as(customer.token));
    const orderId = randomUUID();
    const input = {
      orderId,
      userId: customer.userId,
      paymentMethodId: card.body.data!.addPaymentMethod.id,
      amountCents: 3_450,
      currency: 'USD',
    };
    const chargesBefore = billing.fakeProvider!.chargeCount;

    const payments = await Promise.all([billing.chargeOrder(input), billing.chargeOrder(input), billing.chargeOrder(input)]);
    expect(new Set(payments.map((payment) => payment.id)).size).toBe(1);
    expect(billing.fakeProvider!.chargeCount - chargesBefore).toBe(1);
    const paymentId = payments[0]!.id;

    const seen = await stack.query<{ payment: unknown }>(PAYMENT, { id: paymentId }, as(customer.token));
    expect(seen.body.data?.payment).toEqual({
      id: paymentId,
      status: 'CAPTURED',
      amount: { amountCents: 3_450, currency: 'USD' },
      refunded: { amountCents: 0 },
      paymentMethod: { last4: '4242' },
    });
    const stranger = await stack.query(PAYMENT, { id: paymentId }, as(bearer(randomUUID())));
    expect(stranger.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const REFUND = `mutation ($id: ID!, $key: String!) { refundPayment(paymentId: $id, amountCents: 1000, reason: "damaged box", idempotencyKey: $key) {
      status amount { amountCents } payment { status refunded { amountCents } } } }`;
    const byCustomer = await stack.query(REFUND, { id: paymentId, key: `${orderId}-1` }, as(customer.token));
    expect(byCustomer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const byAdmin = await stack.query<{ refundPayment: unknown }>(REFUND, { id: paymentId, key: `${orderId}-1` }, as(ADMIN));
    expect(byAdmin.body.data?.refundPayment).toEqual({
      status: 'SUCCEEDED',
      amount: { amountCents: 1_000 },
      payment: { status: 'PARTIALLY_REFUNDED', refunded: { amountCents: 1_000 } },
    });
    const retried = await stack.query<{ refundPayment: unknown }>(REFUND, { id: paymentId, key: `${orderId}-1` }, as(ADMIN));
    expect(retried.body.data?.refundPayment).toEqual(byAdmin.body.data?.refundPayment);
    expect(billing.fakeProvider!.chargeFor(`order:${orderId}:charge`)?.refundedCents).toBe(1_000);

    // The shared free-text rule: a card number in the reason is refused, a long reference number is not.
    const REFUND_WITH_REASON = `mutation ($id: ID!, $key: String!, $reason: String!) {
      refundPayment(paymentId: $id, amountCents: 1, reason: $reason, idempotencyKey: $key) { reason } }`;
    const withCard = await stack.query(
      REFUND_WITH_REASON,
      { id: paymentId, key: `${orderId}-card`, reason: 'card 4242-4242-4242-4242' },
      as(ADMIN),
    );
    expect(withCard.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect(JSON.stringify(withCard.body)).not.toContain('4242-4242');
    expect(billing.fakeProvider!.chargeFor(`order:${orderId}:charge`)?.refundedCents).toBe(1_000);
    const withReference = await stack.query(
      REFUND_WITH_REASON,
      { id: paymentId, key: `${orderId}-rma`, reason: 'RMA 1234 5678 1234 5678' },
      as(ADMIN),
    );
    expect(withReference.body.errors).toBeUndefined();
    expect(billing.fakeProvider!.chargeFor(`order:${orderId}:charge`)?.refundedCents).toBe(1_001);

    const bus = stack.embedded.bus;
    if (!bus) throw new Error('the embedded stack runs on the in-process bus');
    const events = await waitFor(() => {
      const found = bus.messages('billing.events').filter((event) => event.aggregateId === orderId);
      return found.length >= 2 ? found : undefined;
    }, 'billing events on the bus');
    expect(events.map((event) => event.type).slice(0, 2)).toEqual(['PaymentCaptured', 'PaymentRefunded']);
    expect(events[1]?.payload).toMatchObject({
      orderId,
      paymentId,
      amountCents: 1_000,
      totalRefundedCents: 1_000,
      fullyRefunded: false,
    });
  });

  it('records a declined card as a failed payment with its reason', async () => {
    const customer = await registerCustomer();
    const card = await stack.query<{ addPaymentMethod: { id: string } }>(
      ADD_CARD,
      { token: 'tok_chargeDeclined' },
      as(customer.token),
    );
    const payment = await billing.chargeOrder({
      orderId: randomUUID(),
      userId: customer.userId,
      paymentMethodId: card.body.data!.addPaymentMethod.id,
      amountCents: 999,
      currency: 'USD',
    });
    const seen = await stack.query<{ payment: unknown }>(
      'query ($id: ID!) { payment(id: $id) { status failure { code } refundable { amountCents } } }',
      { id: payment.id },
      as(customer.token),
    );
    expect(seen.body.data?.payment).toEqual({
      status: 'FAILED',
      failure: { code: 'card_declined' },
      refundable: { amountCents: 0 },
    });
  });

  it('keeps stored balances equal to the ledger', async () => {
    const reconciliation = await stack.query<{ ledgerReconciliation: { balanced: boolean; checkedPayments: number } }>(
      '{ ledgerReconciliation { balanced checkedPayments } }',
      {},
      as(ADMIN),
    );
    expect(reconciliation.body.data?.ledgerReconciliation).toEqual({ balanced: true, checkedPayments: 2 });
  });
});
