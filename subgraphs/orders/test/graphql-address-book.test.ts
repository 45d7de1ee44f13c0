/**
 * The users adapter of the AddressBook port, against a stubbed fetch: it asks as the buyer (their own
 * Authorization header), finds only the buyer's own address, and turns every failure into
 * SERVICE_UNAVAILABLE without ever returning "no such address" for an outage.
 */
import { createLogger } from '@commerce/platform';
import { GraphQLAddressBook } from '../src/adapters/users/graphql-address-book.ts';

const logger = createLogger({ service: 'orders', level: 'silent' });
const ADA = {
  id: 'a-1',
  label: 'Home',
  recipientName: 'Ada',
  line1: '1 Main St',
  line2: null,
  city: 'Bath',
  region: null,
  postalCode: 'BA1',
  country: 'GB',
  phone: null,
};
const buyer = { userId: 'u-1', credentials: 'Bearer buyer-token' };

function bookAnswering(answer: () => Promise<Response>) {
  const calls: RequestInit[] = [];
  const book = new GraphQLAddressBook({
    url: 'http://users.test/graphql',
    logger,
    accessHeaders: () => ({ 'x-subgraph-token': 'access' }),
    fetch: async (_url, init) => {
      calls.push(init!);
      return answer();
    },
  });
  return { book, calls };
}
const json =
  (body: unknown, status = 200) =>
  async () =>
    new Response(JSON.stringify(body), { status });

it("returns the buyer's own address as a snapshot, asking users with the buyer's credentials", async () => {
  const { book, calls } = bookAnswering(json({ data: { me: { id: 'u-1', addresses: [ADA] } } }));
  const { id: _id, ...snapshot } = ADA;
  expect(await book.ownAddress(buyer, 'a-1')).toEqual(snapshot);
  const headers = calls[0]!.headers as Record<string, string>;
  expect(headers.authorization).toBe('Bearer buyer-token');
  expect(headers['x-subgraph-token']).toBe('access');
});

it('answers null for an address the buyer does not have, and for a token of a user users does not know', async () => {
  expect(await bookAnswering(json({ data: { me: { id: 'u-1', addresses: [ADA] } } })).book.ownAddress(buyer, 'a-2')).toBeNull();
  expect(await bookAnswering(json({ data: { me: null } })).book.ownAddress(buyer, 'a-1')).toBeNull();
  expect(await bookAnswering(json({ data: { me: { id: 'u-2', addresses: [ADA] } } })).book.ownAddress(buyer, 'a-1')).toBeNull();
});

it('is SERVICE_UNAVAILABLE when users is unreachable, answers 5xx or errors, or no credentials came with the call', async () => {
  const failures = [
    async () => {
      throw new TypeError('fetch failed');
    },
    json({ errors: [{ message: 'boom' }] }, 503),
    json({ errors: [{ message: 'database down', extensions: { code: 'SERVICE_UNAVAILABLE' } }], data: null }),
  ];
  for (const failure of failures) {
    await expect(bookAnswering(failure).book.ownAddress(buyer, 'a-1')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  }
  const { book, calls } = bookAnswering(json({ data: { me: null } }));
  await expect(book.ownAddress({ userId: 'u-1', credentials: undefined }, 'a-1')).rejects.toMatchObject({
    code: 'SERVICE_UNAVAILABLE',
  });
  expect(calls).toHaveLength(0);
});
