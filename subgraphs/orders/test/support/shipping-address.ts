import type { ShippingAddress } from '../../src/domain/shipping-address.ts';

/** A shipping-address snapshot for domain tests that place orders. */
export const SAMPLE_SHIPPING_ADDRESS: ShippingAddress = {
  label: null,
  recipientName: 'Ada',
  line1: '1 Main St',
  line2: null,
  city: 'Springfield',
  region: null,
  postalCode: '12345',
  country: 'US',
  phone: null,
};
