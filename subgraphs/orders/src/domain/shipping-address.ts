/**
 * Where an order ships: the buyer's address as the users service stored it at checkout, copied onto the
 * order. Later edits or removal of the address in the address book do not change a placed order.
 */
export interface ShippingAddress {
  label: string | null;
  recipientName: string;
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  phone: string | null;
}
