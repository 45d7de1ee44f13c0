/**
 * Faults, part 3: two processes of every service, as production runs them (issue 21 item 11). Two
 * replicas of each subgraph (one database and one consumer group per service, the same topic prefix)
 * and two gateways sharing one Redis prefix and one cache-purge group, on the shared PostgreSQL, Redis
 * and Kafka under names of this run's own (`support/replica-stack.ts`).
 *
 * How a call reaches "a service" with two replicas: a tiny round-robin HTTP balancer per subgraph on
 * 127.0.0.1 (`support/round-robin-balancer.ts`), standing in for a Kubernetes Service. The gateways and
 * the subgraphs calling each other know only the balancer's URL. A request the killed replica refuses
 * (connection refused, nothing sent) goes to the survivor; one in flight when it died gets a 502, which
 * the gateway answers as SERVICE_UNAVAILABLE and the client retries with the same idempotency key.
 * Clients alternate between the two gateways call by call (retries included).
 *
 * While four customers check out, one replica of catalog, users, orders and billing is SIGKILLed in
 * turn, REPLICAS_KILL_GAP_MS apart, and not restarted: the survivors carry the shop from then on. Then:
 * every order a client got an id for exists and ended CONFIRMED or CANCELLED, none was charged twice
 * and the cross-service reconciliation finds nothing; each saga group's partitions all moved to the
 * surviving member (the broker evicts the dead one after its 30 s session timeout); every service
 * still answers through both gateways. Then a price change made through one gateway is purged from
 * both gateways' caches (a product is cacheable for 300 s), and a sensitive field's budget spent half
 * through each gateway is refused on either.
 */
import { jest } from '@jest/globals';
import pg from 'pg';
import { describeWithServers } from '@commerce/testkit';
import { ADMIN, newShopper, stockedProducts } from '../e2e/saga-support.ts';
import { SUBGRAPHS } from '../bench/src/stack/stack.ts';
import {
  expectSettledAndReconciled,
  pause,
  settleAndReconcile,
  settlementFigures,
  startCheckoutLoad,
  until,
} from './support/fault-stack.ts';
import { startReplicaStack, type ReplicaStack } from './support/replica-stack.ts';

jest.setTimeout(300_000);

const KILL_GAP_MS = Number(process.env.REPLICAS_KILL_GAP_MS ?? 4_000);
/** The sensitive-field budget per caller and window; addPaymentMethod spends it (placeOrder is left out so the load is not limited). */
const SENSITIVE_POINTS = 8;
/** The consumer group of each subgraph that has one (users consumes no events). */
const SAGA_GROUPS = { catalog: 'catalog.saga', orders: 'orders.saga', billing: 'billing.saga' } as const;
const PURGE_GROUP = 'gateway-cache-purge';

describeWithServers(
  ['TEST_DATABASE_URL', 'TEST_REDIS_URL', 'TEST_KAFKA_BROKERS'],
  'faults: two replicas of every service, one of each subgraph SIGKILLed during checkouts',
  () => {
    let stack: ReplicaStack;
    const figures: Record<string, unknown> = {};

    beforeAll(async () => {
      const started = Date.now();
      stack = await startReplicaStack({
        label: 'replicas',
        databaseUrl: process.env.TEST_DATABASE_URL!,
        redisUrl: process.env.TEST_REDIS_URL!,
        kafkaBrokers: process.env.TEST_KAFKA_BROKERS!,
        // Orders wait up to a session timeout for a dead replica's partitions: the sweeper must not cancel them first.
        subgraphEnv: { ORDER_PENDING_TIMEOUT_MS: '180000' },
        gatewayEnv: {
          GATEWAY_RATE_LIMIT_SENSITIVE_FIELDS: 'addPaymentMethod,refundPayment',
          GATEWAY_RATE_LIMIT_SENSITIVE_POINTS: String(SENSITIVE_POINTS),
          GATEWAY_RATE_LIMIT_ADDRESS_FIELDS: 'login,refreshToken,changePassword',
        },
      });
      // Both members of every group hold partitions before anything is killed.
      for (const group of [...Object.values(SAGA_GROUPS), PURGE_GROUP]) {
        await until(
          `both members of ${group} to hold partitions`,
          async () => {
            const members = await stack.groupMembers(group);
            return members.length === 2 && members.every((member) => member.partitions > 0);
          },
          90_000,
        );
      }
      figures.startupMs = Date.now() - started;
    }, 420_000);
    afterAll(async () => {
      process.stdout.write(`${JSON.stringify({ faults: 'replicas', figures })}\n`);
      console.log(`two replicas: ${JSON.stringify(figures)}`);
      await stack?.stop();
    });

    it('SIGKILL one replica of each subgraph in turn: no order lost, stuck or charged twice; partitions move to the survivor', async () => {
      const ordersDb = new pg.Client({ connectionString: stack.databaseUrls.orders });
      await ordersDb.connect();
      const orderCount = async () => Number((await ordersDb.query<{ n: string }>('SELECT count(*) AS n FROM orders')).rows[0]!.n);
      try {
        const ordersBefore = await orderCount();
        const load = await startCheckoutLoad(stack);
        await pause(3_000);
        const placedBeforeKills = load.placed.length;

        const killedAt: Record<string, number> = {};
        for (const name of SUBGRAPHS) {
          await stack.kill(stack.replicas[name][0]!);
          killedAt[name] = Date.now();
          await pause(KILL_GAP_MS);
        }
        const placedAtLastKill = load.placed.length;

        // The broker evicts a SIGKILLed member after its session timeout; the survivor then owns everything.
        const movedMs: Record<string, number> = {};
        const owners: Record<string, unknown> = {};
        for (const [service, group] of Object.entries(SAGA_GROUPS)) {
          const survivor = stack.replicas[service as keyof typeof SAGA_GROUPS][1]!.kafkaClientId;
          const total = await stack.groupPartitions(group);
          await until(
            `the surviving ${service} replica to own all ${total} partitions of ${group}`,
            async () => {
              const members = await stack.groupMembers(group);
              owners[group] = members;
              return members.length === 1 && members[0]!.clientId === survivor && members[0]!.partitions === total;
            },
            120_000,
          );
          movedMs[group] = Date.now() - killedAt[service]!;
        }

        // Every service answers through both gateways with one replica gone (the balancer skips the dead one).
        const shopper = await newShopper(stack.query);
        for (const index of [0, 1, 0, 1]) {
          const { body } = await stack.via(index)<{ me: { id: string } }>(
            'query { me { id orders(first: 1) { totalCount } paymentMethods(first: 5) { totalCount } } }',
            {},
            shopper.headers,
          );
          expect(body.errors).toBeUndefined();
          expect(body.data?.me.id).toBe(shopper.userId);
        }

        await pause(3_000);
        await load.stop();
        const settlement = await settleAndReconcile(stack, load.placed);
        const ordersInDb = (await orderCount()) - ordersBefore;
        Object.assign(figures, {
          killGapMs: KILL_GAP_MS,
          placedBeforeKills,
          placedAtLastKill,
          ordersInDb,
          partitionsMovedMsAfterKill: movedMs,
          groupsAfter: owners,
          callsThroughGateway: stack.sentThrough,
          balancers: Object.fromEntries(SUBGRAPHS.map((name) => [name, stack.balancers[name].stats])),
          ...settlementFigures(load, settlement),
        });

        expectSettledAndReconciled(settlement);
        expect(settlement.byStatus.CANCELLED ?? 0).toBeGreaterThan(0);
        // No order the client was never told of, beyond checkouts it gave up on (retries reuse the key).
        expect(ordersInDb).toBeGreaterThanOrEqual(load.placed.length);
        expect(ordersInDb - load.placed.length).toBeLessThanOrEqual(load.abandoned);
        // The shop kept selling on the survivors, through both gateways.
        expect(load.placed.length).toBeGreaterThan(placedAtLastKill);
        expect(Math.min(...stack.sentThrough)).toBeGreaterThan(0);
        for (const name of SUBGRAPHS) {
          const { served, failedOver } = stack.balancers[name].stats;
          // Both replicas served before the kill; afterwards the killed one's turns went to the survivor.
          expect(Math.min(...served)).toBeGreaterThan(0);
          expect(failedOver).toBeGreaterThan(0);
        }
      } finally {
        await ordersDb.end();
      }
    });

    it("a price change made through one gateway is purged from both gateways' response caches", async () => {
      const [productId] = await stockedProducts(stack.query, 1);
      const PRODUCT = 'query ($id: ID!) { product(id: $id) { id version price { amountCents currency } } }';
      type ProductAnswer = { product: { id: string; version: number; price: { amountCents: number } } };
      const before = await stack.via(0)<ProductAnswer>(PRODUCT, { id: productId });
      const { version, price } = before.body.data!.product;

      // Cached on each gateway: a repeat of the anonymous query is a hit there (Product's max-age is 300 s).
      for (const index of [0, 1]) {
        const hits = await cacheHits(stack, index);
        await stack.via(index)(PRODUCT, { id: productId });
        const repeat = await stack.via(index)<ProductAnswer>(PRODUCT, { id: productId });
        expect(repeat.body.data?.product.price.amountCents).toBe(price.amountCents);
        expect(await cacheHits(stack, index)).toBeGreaterThan(hits);
      }

      const newPrice = price.amountCents + 137;
      const changedAt = Date.now();
      const updated = await stack.via(0)<{ updateProduct: { price: { amountCents: number } } }>(
        'mutation ($input: UpdateProductInput!) { updateProduct(input: $input) { price { amountCents } } }',
        { input: { id: productId, version, priceCents: newPrice } },
        ADMIN,
      );
      expect(updated.body.errors).toBeUndefined();

      const seenAfterMs: number[] = [];
      for (const index of [0, 1]) {
        await until(
          `gateway ${index + 1} to answer the new price`,
          async () => {
            const { body } = await stack.via(index)<ProductAnswer>(PRODUCT, { id: productId });
            return body.data?.product.price.amountCents === newPrice;
          },
          20_000,
        );
        seenAfterMs.push(Date.now() - changedAt);
      }
      figures.newPriceSeenMsPerGateway = seenAfterMs;
    });

    it("a sensitive field's budget spent half through each gateway is refused on either", async () => {
      // newShopper spends one point (its card); the rest alternate between the gateways.
      const shopper = await newShopper(stack.via(0));
      const ADD_CARD = 'mutation { addPaymentMethod(token: "tok_mastercard") { id } }';
      const accepted = [1, 0];
      for (let spent = 1; spent < SENSITIVE_POINTS; spent++) {
        const index = spent % 2;
        const { body } = await stack.via(index)(ADD_CARD, {}, shopper.headers);
        expect(body.errors).toBeUndefined();
        accepted[index]!++;
      }
      const refused: (string | undefined)[] = [];
      for (const index of [0, 1]) {
        const { body } = await stack.via(index)(ADD_CARD, {}, shopper.headers);
        refused.push(body.errors?.[0]?.extensions?.code);
      }
      figures.rateLimit = { points: SENSITIVE_POINTS, acceptedPerGateway: accepted, refused };
      expect(accepted).toEqual([SENSITIVE_POINTS / 2, SENSITIVE_POINTS / 2]);
      expect(refused).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    });
  },
);

/** The gateway's response-cache hits so far, from its /metrics on the management port. */
async function cacheHits(stack: ReplicaStack, index: number): Promise<number> {
  const text = await (await fetch(`${stack.gateways[index]!.managementUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('gateway_response_cache_lookups_total{') && line.includes('result="hit"'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
