/**
 * Billing on a real PostgreSQL: exactly-once charges under concurrency, the provider resilience
 * policies end to end, refunds that never exceed the capture, the append-only ledger, who may see
 * what, and card numbers that are refused and never logged.
 */
import pg from 'pg';
import type { Viewer } from '@commerce/platform';
import { createTestDatabase, describeWithServers, type TestDatabase } from '@commerce/testkit';
import { chargeKeyForOrder } from '../src/domain/idempotency.ts';
import { refundPayment } from '../src/application/refund-payment.ts';
import { newOrderId, newUserId, startBilling, type BillingUnderTest } from './billing-test-kit.ts';

const POLICY_ENV = {
  BILLING_PROVIDER_TIMEOUT_MS: '150',
  BILLING_PROVIDER_MAX_RETRIES: '2',
  BILLING_PROVIDER_RETRY_INITIAL_DELAY_MS: '10',
  BILLING_PROVIDER_RETRY_MAX_DELAY_MS: '40',
  BILLING_BREAKER_THRESHOLD: '3',
  BILLING_BREAKER_HALF_OPEN_MS: '400',
};

const admin: Viewer = { userId: 'admin-1', role: 'ADMIN' };

describeWithServers(['TEST_DATABASE_URL'], 'billing on PostgreSQL', () => {
  let database: TestDatabase;
  let billing: BillingUnderTest;
  let sql: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase('billing');
    billing = await startBilling(database.url, POLICY_ENV);
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await billing?.stop();
    await database?.drop();
  });

  const fake = () => billing.service.fakeProvider!;
  const count = async (query: string, params: unknown[]) => Number((await sql.query(query, params)).rows[0].count);
  const outboxTypes = async (orderId: string) =>
    (await sql.query('SELECT type FROM outbox_events WHERE aggregate_id = $1 ORDER BY sequence', [orderId])).rows.map(
      (row) => row.type,
    );

  async function capturedOrder(amountCents = 10_000, token = 'tok_visa') {
    const userId = newUserId();
    const orderId = newOrderId();
    const paymentMethodId = await billing.addCard(userId, token);
    const payment = await billing.service.chargeOrder({ orderId, userId, paymentMethodId, amountCents, currency: 'USD' });
    return { userId, orderId, paymentMethodId, payment };
  }

  describe('charging an order exactly once', () => {
    it('a sequential duplicate charge attempt makes one provider charge', async () => {
      const userId = newUserId();
      const orderId = newOrderId();
      const paymentMethodId = await billing.addCard(userId);
      const chargesBefore = fake().chargeCount;
      const input = { orderId, userId, paymentMethodId, amountCents: 4_999, currency: 'USD' };

      const first = await billing.service.chargeOrder(input);
      const second = await billing.service.chargeOrder(input);

      expect(first.status).toBe('CAPTURED');
      expect(second).toMatchObject({ id: first.id, status: 'CAPTURED', capturedCents: 4_999 });
      expect(fake().chargeCount - chargesBefore).toBe(1);
      expect(fake().callsFor(chargeKeyForOrder(orderId))).toBe(1);
      expect(await count('SELECT count(*) FROM payments WHERE order_id = $1', [orderId])).toBe(1);
      expect(await count('SELECT count(*) FROM ledger_entries WHERE payment_id = $1', [first.id])).toBe(1);
      expect(await outboxTypes(orderId)).toEqual(['PaymentCaptured']);
    });

    it('20 concurrent charge attempts for one order make one provider charge and agree on the answer', async () => {
      const userId = newUserId();
      const orderId = newOrderId();
      const paymentMethodId = await billing.addCard(userId);
      const chargesBefore = fake().chargeCount;
      const input = { orderId, userId, paymentMethodId, amountCents: 12_345, currency: 'USD' };

      const results = await Promise.all(Array.from({ length: 20 }, () => billing.service.chargeOrder(input)));

      expect(new Set(results.map((payment) => payment.id)).size).toBe(1);
      expect(results.every((payment) => payment.status === 'CAPTURED')).toBe(true);
      expect(fake().chargeCount - chargesBefore).toBe(1);
      expect(fake().callsFor(chargeKeyForOrder(orderId))).toBe(1);
      expect(await count('SELECT count(*) FROM payments WHERE order_id = $1', [orderId])).toBe(1);
      expect(await count(`SELECT count(*) FROM ledger_entries WHERE payment_id = $1 AND kind = 'CHARGE'`, [results[0]!.id])).toBe(
        1,
      );
      expect(await outboxTypes(orderId)).toEqual(['PaymentCaptured']);
    });

    it('refuses a repeated charge for the same order with a different amount', async () => {
      const { userId, orderId, paymentMethodId } = await capturedOrder(1_000);
      await expect(
        billing.service.chargeOrder({ orderId, userId, paymentMethodId, amountCents: 1_001, currency: 'USD' }),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
    });

    it('refuses amounts that are not positive integer cents', async () => {
      const userId = newUserId();
      const paymentMethodId = await billing.addCard(userId);
      for (const amountCents of [0, -5, 10.5]) {
        await expect(
          billing.service.chargeOrder({ orderId: newOrderId(), userId, paymentMethodId, amountCents, currency: 'USD' }),
        ).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
      }
    });
  });

  describe('talking to the provider', () => {
    it('retries a transient failure and captures once', async () => {
      const retriesBefore = await billing.metric('billing_provider_retries_total', { operation: 'charge' });
      const chargesBefore = fake().chargeCount;
      const { orderId, payment } = await capturedOrder(2_500, 'tok_transient');

      expect(payment.status).toBe('CAPTURED');
      expect(fake().callsFor(chargeKeyForOrder(orderId))).toBe(2);
      expect(fake().chargeCount - chargesBefore).toBe(1);
      expect((await billing.metric('billing_provider_retries_total', { operation: 'charge' })) - retriesBefore).toBe(1);
      expect(billing.logs.text()).toContain('retrying payment provider call after a transient failure');
      expect(await outboxTypes(orderId)).toEqual(['PaymentCaptured']);
    });

    it('does not retry a decline, and keeps the reason', async () => {
      const retriesBefore = await billing.metric('billing_provider_retries_total');
      const { userId, orderId, paymentMethodId, payment } = await capturedOrder(2_500, 'tok_chargeDeclined');

      expect(payment).toMatchObject({ status: 'FAILED', capturedCents: 0, failure: { code: 'card_declined' } });
      expect(fake().callsFor(chargeKeyForOrder(orderId))).toBe(1);
      expect(await billing.metric('billing_provider_retries_total')).toBe(retriesBefore);
      const again = await billing.service.chargeOrder({ orderId, userId, paymentMethodId, amountCents: 2_500, currency: 'USD' });
      expect(again).toMatchObject({ id: payment.id, status: 'FAILED' });
      expect(fake().callsFor(chargeKeyForOrder(orderId))).toBe(1);
      const [event] = (await sql.query('SELECT envelope FROM outbox_events WHERE aggregate_id = $1', [orderId])).rows;
      expect(event.envelope).toMatchObject({
        type: 'PaymentFailed',
        payload: { orderId, reason: 'card_declined', paymentId: payment.id },
      });
    });

    it('opens the breaker when cards that paid before fail for several customers, fails fast while open, and recovers after the half-open delay', async () => {
      const userId = newUserId();
      // Cards first: while the circuit is open, saving a card needs the provider too and fails fast as well.
      // Cards that never paid prove nothing about the provider (free accounts could open it): three customers'
      // timing-out cards leave it closed. Regular customers' cards failing (an outage) open it.
      const newcomers = await Promise.all(
        [0, 1, 2].map(async () => {
          const customer = newUserId();
          return { customer, card: await billing.addCard(customer, 'tok_timeout') };
        }),
      );
      const regulars = await Promise.all(
        [0, 1, 2].map(async () => {
          const customer = newUserId();
          return { customer, card: await billing.addCard(customer, 'tok_visa') };
        }),
      );
      const visa = await billing.addCard(userId, 'tok_visa');
      const charge = (paymentMethodId: string, customer = userId) =>
        billing.service.chargeOrder({
          orderId: newOrderId(),
          userId: customer,
          paymentMethodId,
          amountCents: 1_000,
          currency: 'USD',
        });
      expect(billing.service.provider.circuitState).toBe('closed');

      for (const { customer, card } of newcomers) {
        expect(await charge(card, customer)).toMatchObject({ status: 'FAILED', failure: { code: 'provider_timeout' } });
      }
      expect(billing.service.provider.circuitState).toBe('closed');

      for (const { customer, card } of regulars) expect(await charge(card, customer)).toMatchObject({ status: 'CAPTURED' });
      fake().simulateOutage(true);
      try {
        for (const { customer, card } of regulars) {
          expect(await charge(card, customer)).toMatchObject({ status: 'FAILED', failure: { code: 'provider_timeout' } });
        }
      } finally {
        fake().simulateOutage(false);
      }
      expect(billing.service.provider.circuitState).toBe('open');
      expect(await billing.metric('billing_provider_circuit_state')).toBe(1);
      expect(billing.logs.text()).toContain('payment provider circuit opened');

      const callsBefore = fake().chargeCalls;
      const started = Date.now();
      expect(await charge(visa)).toMatchObject({ status: 'FAILED', failure: { code: 'provider_unavailable' } });
      expect(fake().chargeCalls).toBe(callsBefore); // failed fast: the provider never saw it
      expect(Date.now() - started).toBeLessThan(1_000);
      const addWhileOpen = await billing.graphql('mutation { addPaymentMethod(token: "tok_visa") { id } }', {}, userId);
      expect(addWhileOpen.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');

      await new Promise((resolve) => setTimeout(resolve, 450));
      expect(await charge(visa)).toMatchObject({ status: 'CAPTURED' }); // the half-open probe
      expect(billing.service.provider.circuitState).toBe('closed');
      expect(await billing.metric('billing_provider_circuit_state')).toBe(0);
      expect(billing.logs.text()).toContain('payment provider circuit half-open');
      expect(billing.logs.text()).toContain('payment provider circuit closed');

      const metrics = await (await fetch(`${billing.service.management.url}/metrics`)).text();
      expect(metrics).toContain('billing_provider_circuit_state{provider="fake",service="billing"} 0');
      expect(metrics).toContain('# TYPE billing_provider_retries_total counter');
      // Six timeouts: the newcomers' three and the regulars' three in the outage.
      expect(metrics).toMatch(/billing_provider_request_duration_seconds_count\{[^}]*operation="charge",outcome="timeout"\} 6\n/);
    });
  });

  describe('refunds', () => {
    const refundMutation = `mutation ($paymentId: ID!, $amountCents: Int!, $key: String!) {
      refundPayment(paymentId: $paymentId, amountCents: $amountCents, reason: "customer request", idempotencyKey: $key) {
        id status amount { amountCents } payment { status refunded { amountCents } refundable { amountCents } }
      }
    }`;

    it('never refunds more than was captured in total, and answers a retried key with the same refund', async () => {
      const { payment } = await capturedOrder(10_000);
      const refund = (amountCents: number, key: string) =>
        billing.graphql<{
          refundPayment: { id: string; status: string; payment: { status: string; refundable: { amountCents: number } } };
        }>(refundMutation, { paymentId: payment.id, amountCents, key }, admin.userId, 'ADMIN');

      const first = await refund(6_000, `${payment.id}-a`);
      expect(first.data?.refundPayment).toMatchObject({
        status: 'SUCCEEDED',
        payment: { status: 'PARTIALLY_REFUNDED', refundable: { amountCents: 4_000 } },
      });
      const refundsBefore = fake().refundCount;
      const retried = await refund(6_000, `${payment.id}-a`);
      expect(retried.data?.refundPayment.id).toBe(first.data?.refundPayment.id);
      expect(fake().refundCount).toBe(refundsBefore);

      const tooMuch = await refund(4_001, `${payment.id}-b`);
      expect(tooMuch.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'amountCents',
        refundableCents: 4_000,
      });
      const reusedKey = await refund(1_000, `${payment.id}-a`);
      expect(reusedKey.errors?.[0]?.extensions?.code).toBe('CONFLICT');

      const rest = await refund(4_000, `${payment.id}-c`);
      expect(rest.data?.refundPayment.payment).toMatchObject({ status: 'REFUNDED', refundable: { amountCents: 0 } });
      const oneMore = await refund(1, `${payment.id}-d`);
      expect(oneMore.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', refundableCents: 0 });
      const cardInReason = await billing.graphql(
        'mutation ($id: ID!) { refundPayment(paymentId: $id, amountCents: 1, reason: "card 4242 4242 4242 4242", idempotencyKey: "k-card") { id } }',
        { id: payment.id },
        admin.userId,
        'ADMIN',
      );
      expect(cardInReason.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
      expect(fake().chargeFor(chargeKeyForOrder(payment.orderId))?.refundedCents).toBe(10_000);
    });

    it('refuses refunds from customers', async () => {
      const { userId, payment } = await capturedOrder(1_000);
      const result = await billing.graphql(
        refundMutation,
        { paymentId: payment.id, amountCents: 100, key: `${payment.id}-x` },
        userId,
      );
      expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(await count('SELECT count(*) FROM refunds WHERE payment_id = $1', [payment.id])).toBe(0);
    });

    it('never exceeds the captured amount under 20 concurrent refunds', async () => {
      const { payment } = await capturedOrder(10_000);
      const attempts = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          refundPayment(billing.service.deps, admin, {
            paymentId: payment.id,
            amountCents: 1_500,
            reason: 'load',
            idempotencyKey: `${payment.id}-${i}`,
          }),
        ),
      );
      const succeeded = attempts.filter((a) => a.status === 'fulfilled');
      const refused = attempts.filter((a) => a.status === 'rejected');
      expect(succeeded).toHaveLength(6); // 6 × 1 500 = 9 000 ≤ 10 000 < 7 × 1 500
      expect(refused.every((a) => (a as PromiseRejectedResult).reason.code === 'BAD_USER_INPUT')).toBe(true);

      const stored = (await sql.query('SELECT refunded_cents, status FROM payments WHERE id = $1', [payment.id])).rows[0];
      expect(stored).toEqual({ refunded_cents: 9_000, status: 'PARTIALLY_REFUNDED' });
      const ledger = (
        await sql.query(`SELECT sum(amount_cents)::int AS total FROM ledger_entries WHERE payment_id = $1 AND kind = 'REFUND'`, [
          payment.id,
        ])
      ).rows[0];
      expect(ledger.total).toBe(-9_000);
      expect(fake().chargeFor(chargeKeyForOrder(payment.orderId))?.refundedCents).toBe(9_000);
    });

    it('makes one refund of 10 concurrent requests with the same key', async () => {
      const { payment } = await capturedOrder(5_000);
      const refundsBefore = fake().refundCount;
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          refundPayment(billing.service.deps, admin, {
            paymentId: payment.id,
            amountCents: 2_000,
            reason: 'dup',
            idempotencyKey: `${payment.id}-same`,
          }),
        ),
      );
      expect(new Set(results.map((refund) => refund.id)).size).toBe(1);
      expect(results.every((refund) => refund.status === 'SUCCEEDED')).toBe(true);
      expect(fake().refundCount - refundsBefore).toBe(1);
      expect(await count('SELECT count(*) FROM refunds WHERE payment_id = $1', [payment.id])).toBe(1);
    });

    it('refunds what is left in full when a confirmed order is cancelled, once', async () => {
      const { orderId, payment } = await capturedOrder(10_000);
      await refundPayment(billing.service.deps, admin, {
        paymentId: payment.id,
        amountCents: 2_500,
        reason: 'goodwill',
        idempotencyKey: `${payment.id}-gw`,
      });

      const cause = { id: '6f1c3a4e-8a44-4a53-9c2a-8d3f2f7b9e10', correlationId: 'checkout-1', traceparent: null };
      const first = await billing.service.refundInFull({ orderId, reason: 'customer cancelled', cause });
      expect(first).toMatchObject({ outcome: 'refunded', refund: { status: 'SUCCEEDED', amount: { amountCents: 7_500 } } });
      const refundsBefore = fake().refundCount;
      const redelivered = await billing.service.refundInFull({ orderId, reason: 'customer cancelled', cause });
      expect(redelivered).toMatchObject({
        outcome: 'refunded',
        refund: { id: first.outcome === 'refunded' ? first.refund.id : '' },
      });
      expect(fake().refundCount).toBe(refundsBefore);

      const stored = (await sql.query('SELECT refunded_cents, status FROM payments WHERE id = $1', [payment.id])).rows[0];
      expect(stored).toEqual({ refunded_cents: 10_000, status: 'REFUNDED' });
      expect(await outboxTypes(orderId)).toEqual(['PaymentCaptured', 'PaymentRefunded', 'PaymentRefunded']);
      const last = (
        await sql.query('SELECT envelope FROM outbox_events WHERE aggregate_id = $1 ORDER BY sequence DESC LIMIT 1', [orderId])
      ).rows[0];
      expect(last.envelope).toMatchObject({
        correlationId: 'checkout-1',
        causationId: cause.id,
        payload: { orderId, paymentId: payment.id, amountCents: 7_500, totalRefundedCents: 10_000, fullyRefunded: true },
      });
    });

    it('has nothing to refund for an order whose charge failed or that was never charged', async () => {
      const { orderId } = await capturedOrder(1_000, 'tok_chargeDeclined');
      expect(await billing.service.refundInFull({ orderId, reason: 'cancelled' })).toMatchObject({
        outcome: 'nothing_to_refund',
      });
      expect(await billing.service.refundInFull({ orderId: newOrderId(), reason: 'cancelled' })).toEqual({
        outcome: 'nothing_to_refund',
        payment: null,
      });
    });
  });

  describe('ledger', () => {
    it('rejects UPDATE, DELETE and TRUNCATE at the database', async () => {
      const { payment } = await capturedOrder(3_000);
      await expect(sql.query('UPDATE ledger_entries SET amount_cents = 1 WHERE payment_id = $1', [payment.id])).rejects.toThrow(
        /append-only/,
      );
      await expect(sql.query('DELETE FROM ledger_entries WHERE payment_id = $1', [payment.id])).rejects.toThrow(/append-only/);
      await expect(sql.query('TRUNCATE ledger_entries CASCADE')).rejects.toThrow(/append-only/);
      expect(await count('SELECT count(*) FROM ledger_entries WHERE payment_id = $1', [payment.id])).toBe(1);
    });

    it('refuses a refunded balance above the capture even outside the application', async () => {
      const { payment } = await capturedOrder(3_000);
      await expect(sql.query('UPDATE payments SET refunded_cents = 3001 WHERE id = $1', [payment.id])).rejects.toThrow(
        /payments_refunded_within_captured/,
      );
    });

    it('reconciles stored balances with the ledger and reports a tampered balance', async () => {
      const clean = await billing.service.reconcileLedger();
      expect(clean.checkedPayments).toBeGreaterThan(10);
      expect(clean.mismatches).toEqual([]);

      const { payment } = await capturedOrder(3_000);
      await refundPayment(billing.service.deps, admin, {
        paymentId: payment.id,
        amountCents: 1_000,
        reason: 'r',
        idempotencyKey: `${payment.id}-r`,
      });
      await sql.query('UPDATE payments SET refunded_cents = 999 WHERE id = $1', [payment.id]);
      try {
        const tampered = await billing.service.reconcileLedger();
        expect(tampered.mismatches).toEqual([
          expect.objectContaining({
            paymentId: payment.id,
            stored: { capturedCents: 3_000, refundedCents: 999 },
            ledger: { capturedCents: 3_000, refundedCents: 1_000 },
          }),
        ]);
        expect(billing.logs.text()).toContain('payment balance does not match the ledger');

        const viaGraph = await billing.graphql<{
          ledgerReconciliation: { balanced: boolean; mismatches: { paymentId: string }[] };
        }>('{ ledgerReconciliation { balanced checkedPayments mismatches { paymentId problems } } }', {}, admin.userId, 'ADMIN');
        expect(viaGraph.data?.ledgerReconciliation).toMatchObject({ balanced: false, mismatches: [{ paymentId: payment.id }] });
        const asCustomer = await billing.graphql('{ ledgerReconciliation { balanced } }', {}, newUserId());
        expect(asCustomer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      } finally {
        await sql.query('UPDATE payments SET refunded_cents = 1000 WHERE id = $1', [payment.id]);
      }
      expect((await billing.service.reconcileLedger()).mismatches).toEqual([]);
    });
  });

  describe('who sees what', () => {
    const methodsOf = `query ($id: ID!) { _entities(representations: [{ __typename: "User", id: $id }]) {
      ... on User { paymentMethods { totalCount nodes { id brand last4 isDefault } } } } }`;
    const paymentOfOrder = `query ($id: ID!) { _entities(representations: [{ __typename: "Order", id: $id }]) {
      ... on Order { payment { id status amount { amountCents currency } paymentMethod { last4 } } } } }`;

    it("user B cannot see or change user A's payment methods", async () => {
      const userA = newUserId();
      const userB = newUserId();
      const methodId = await billing.addCard(userA, 'tok_mastercard');

      const own = await billing.graphql<{ _entities: { paymentMethods: { totalCount: number; nodes: unknown[] } }[] }>(
        methodsOf,
        { id: userA },
        userA,
      );
      expect(own.data?._entities[0]?.paymentMethods).toEqual({
        totalCount: 1,
        nodes: [{ id: methodId, brand: 'MASTERCARD', last4: '4444', isDefault: true }],
      });

      const other = await billing.graphql(methodsOf, { id: userA }, userB);
      expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(JSON.stringify(other.data ?? {})).not.toContain(methodId);
      const anonymous = await billing.graphql(methodsOf, { id: userA });
      expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

      const remove = await billing.graphql('mutation ($id: ID!) { removePaymentMethod(id: $id) }', { id: methodId }, userB);
      expect(remove.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      const setDefault = await billing.graphql(
        'mutation ($id: ID!) { setDefaultPaymentMethod(id: $id) { id } }',
        { id: methodId },
        userB,
      );
      expect(setDefault.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(await count('SELECT count(*) FROM payment_methods WHERE id = $1 AND removed_at IS NULL', [methodId])).toBe(1);

      // Nor can B pay with A's card.
      const payment = await billing.service.chargeOrder({
        orderId: newOrderId(),
        userId: userB,
        paymentMethodId: methodId,
        amountCents: 100,
        currency: 'USD',
      });
      expect(payment).toMatchObject({ status: 'FAILED', failure: { code: 'payment_method_unavailable' } });
    });

    it("user B cannot see user A's payments; A and admins can", async () => {
      const { userId: userA, orderId, payment } = await capturedOrder(7_700);
      const userB = newUserId();
      const byId = 'query ($id: ID!) { payment(id: $id) { id status amount { amountCents } } }';

      const asOwner = await billing.graphql<{ payment: { id: string } }>(byId, { id: payment.id }, userA);
      expect(asOwner.data?.payment).toEqual({ id: payment.id, status: 'CAPTURED', amount: { amountCents: 7_700 } });
      const asAdmin = await billing.graphql<{ payment: { id: string } }>(byId, { id: payment.id }, admin.userId, 'ADMIN');
      expect(asAdmin.data?.payment.id).toBe(payment.id);
      const asOther = await billing.graphql(byId, { id: payment.id }, userB);
      expect(asOther.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(asOther.data).toEqual({ payment: null });

      const orderAsOwner = await billing.graphql<{ _entities: { payment: { id: string; paymentMethod: { last4: string } } }[] }>(
        paymentOfOrder,
        { id: orderId },
        userA,
      );
      expect(orderAsOwner.data?._entities[0]?.payment).toMatchObject({
        id: payment.id,
        amount: { amountCents: 7_700, currency: 'USD' },
        paymentMethod: { last4: '4242' },
      });
      const orderAsOther = await billing.graphql(paymentOfOrder, { id: orderId }, userB);
      expect(orderAsOther.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(JSON.stringify(orderAsOther.data ?? {})).not.toContain(payment.id);
      const entityAsOther = await billing.graphql(
        'query ($id: ID!) { _entities(representations: [{ __typename: "Payment", id: $id }]) { ... on Payment { id } } }',
        { id: payment.id },
        userB,
      );
      expect(entityAsOther.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });
  });

  describe('lists', () => {
    it('pages through saved cards (newest first) and refunds (oldest first) with cursors', async () => {
      const userId = newUserId();
      const ids = [];
      for (const token of ['tok_visa', 'tok_mastercard', 'tok_visa']) ids.push(await billing.addCard(userId, token));
      const page = (after: string | null) =>
        billing.graphql<{
          _entities: { paymentMethods: { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }[];
        }>(
          `query ($id: ID!, $after: String) { _entities(representations: [{ __typename: "User", id: $id }]) {
            ... on User { paymentMethods(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } } }`,
          { id: userId, after },
          userId,
        );
      const first = (await page(null)).data!._entities[0]!.paymentMethods;
      const second = (await page(first.pageInfo.endCursor)).data!._entities[0]!.paymentMethods;
      expect([...first.nodes, ...second.nodes].map((node) => node.id)).toEqual([...ids].reverse());
      expect([first.pageInfo.hasNextPage, second.pageInfo.hasNextPage]).toEqual([true, false]);
      const tooMany = await billing.graphql(
        'query ($id: ID!) { _entities(representations: [{ __typename: "User", id: $id }]) { ... on User { paymentMethods(first: 101) { totalCount } } } }',
        { id: userId },
        userId,
      );
      expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });

      const { payment } = await capturedOrder(900);
      const refundIds = [];
      for (let i = 0; i < 3; i++) {
        const refund = await refundPayment(billing.service.deps, admin, {
          paymentId: payment.id,
          amountCents: 100,
          reason: `r${i}`,
          idempotencyKey: `${payment.id}-p${i}`,
        });
        refundIds.push(refund.id);
      }
      const refunds = await billing.graphql<{
        payment: { refunds: { totalCount: number; nodes: { id: string; reason: string }[] } };
      }>(
        'query ($id: ID!) { payment(id: $id) { refunds(first: 10) { totalCount nodes { id reason } } } }',
        { id: payment.id },
        admin.userId,
        'ADMIN',
      );
      expect(refunds.data?.payment.refunds).toEqual({
        totalCount: 3,
        nodes: refundIds.map((id, i) => ({ id, reason: `r${i}` })),
      });
    });
  });

  describe('card numbers', () => {
    const cardNumbers = ['4242424242424242', '4000 0566 5566 5556', '5555-5555-5555-4444', '1234567812345670123'];

    it('refuses card-number-shaped input and never writes it to the logs', async () => {
      const userId = newUserId();
      const before = billing.logs.lines.length;
      for (const number of cardNumbers) {
        const viaVariables = await billing.graphql(
          'mutation ($token: String!) { addPaymentMethod(token: $token) { id } }',
          { token: number },
          userId,
        );
        expect(viaVariables.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'token' });
        const inline = await billing.graphql(
          `mutation { addPaymentMethod(token: ${JSON.stringify(number)}) { id } }`,
          {},
          userId,
        );
        expect(inline.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(JSON.stringify([viaVariables, inline])).not.toContain(number);
      }
      // Wrong types never reach billing's code, and their validation errors are not logged either.
      const asNumber = await billing.graphql('mutation { addPaymentMethod(token: 4242424242424242) { id } }', {}, userId);
      expect(asNumber.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const asNumberVariable = await billing.graphql(
        'mutation ($token: String!) { addPaymentMethod(token: $token) { id } }',
        { token: 4242424242424242 },
        userId,
      );
      expect(asNumberVariable.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(await count('SELECT count(*) FROM payment_methods WHERE user_id = $1', [userId])).toBe(0);

      const written = billing.logs.lines.slice(before).join('\n');
      expect(written).toContain('refused a card number sent as a payment token'); // the logs were captured…
      for (const number of cardNumbers) {
        expect(written).not.toContain(number); // …and never hold the number,
        expect(written).not.toContain(number.replace(/\D/g, '')); // in any spelling.
      }
    });

    it('stores only the token, brand, last 4 digits and expiry of a card', async () => {
      const userId = newUserId();
      const id = await billing.addCard(userId, 'tok_visa');
      const row = (await sql.query('SELECT * FROM payment_methods WHERE id = $1', [id])).rows[0];
      expect(Object.keys(row).sort()).toEqual([
        'brand',
        'created_at',
        'exp_month',
        'exp_year',
        'id',
        'last4',
        'provider_token',
        'removed_at',
        'user_id',
      ]);
      expect(row).toMatchObject({ provider_token: 'tok_visa', brand: 'VISA', last4: '4242' });
    });
  });
});
