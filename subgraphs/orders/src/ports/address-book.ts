import type { ShippingAddress } from '../domain/shipping-address.ts';

/** Who is asking: the buyer, with their own credentials, so the users service applies its own ownership rules. */
export interface Buyer {
  userId: string;
  /** The buyer's `Authorization` header as the gateway forwarded it (verified); passed on, never stored or logged. */
  credentials: string | undefined;
}

/** The users service's address book, as orders needs it at checkout. */
export interface AddressBook {
  /**
   * The buyer's own address with this id, as it is now; null when the buyer has no address with that id
   * (someone else's address is no different from a missing one). Throws SERVICE_UNAVAILABLE when users
   * cannot answer: an order is never placed without its address.
   */
  ownAddress(buyer: Buyer, addressId: string): Promise<ShippingAddress | null>;
}
