import { DomainError, errorSummary, type Logger } from '@commerce/platform';
import type { ShippingAddress } from '../../domain/shipping-address.ts';
import type { AddressBook, Buyer } from '../../ports/address-book.ts';
import { callSubgraph } from '../subgraph-client.ts';

export interface GraphQLAddressBookOptions {
  /** The users subgraph's GraphQL endpoint (USERS_URL). */
  url: string;
  logger: Logger;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Headers that prove the call comes from inside the graph (the subgraph access token for users). */
  accessHeaders?: () => Record<string, string>;
}

const QUERY = `query OrdersShippingAddress {
  me { id addresses { id label recipientName line1 line2 city region postalCode country phone } }
}`;

type Answer = { me: { id: string; addresses: (ShippingAddress & { id: string })[] | null } | null };

/**
 * Asks the users subgraph *as the buyer*: `me { addresses }` with the buyer's own bearer token, so users
 * applies its normal rules (a user reads only their own address book) and orders gains no new trust — it
 * cannot read anybody's address but the caller's.
 */
export class GraphQLAddressBook implements AddressBook {
  constructor(private readonly options: GraphQLAddressBookOptions) {}

  async ownAddress(buyer: Buyer, addressId: string): Promise<ShippingAddress | null> {
    // Without the buyer's credentials users would answer `me: null`: that is not "no such address".
    if (!buyer.credentials) throw this.unavailable(new Error('no buyer credentials to ask users with'));
    let data: Answer;
    try {
      data = await callSubgraph<Answer>({ ...this.options, subgraph: 'users' }, QUERY, {}, { authorization: buyer.credentials });
    } catch (error) {
      throw this.unavailable(error);
    }
    // A token for a user users does not know (deleted) has no address book at all.
    if (!data.me || data.me.id !== buyer.userId) return null;
    const found = data.me.addresses?.find((address) => address.id === addressId);
    if (!found) return null;
    return {
      label: found.label ?? null,
      recipientName: found.recipientName,
      line1: found.line1,
      line2: found.line2 ?? null,
      city: found.city,
      region: found.region ?? null,
      postalCode: found.postalCode,
      country: found.country,
      phone: found.phone ?? null,
    };
  }

  private unavailable(error: unknown): DomainError {
    this.options.logger.warn({ err: errorSummary(error), usersUrl: this.options.url }, 'users address lookup failed');
    return new DomainError('SERVICE_UNAVAILABLE', 'Your address book cannot be read right now; please try again');
  }
}
