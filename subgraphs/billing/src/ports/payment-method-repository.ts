import type { CreatedAtCursor } from '@commerce/platform';
import type { CardDetails, PaymentMethod } from '../domain/payment-method.ts';

export interface NewPaymentMethod extends CardDetails {
  id: string;
  userId: string;
  providerToken: string;
}

/** A stored method with the token billing charges; the token never leaves the application layer. */
export interface ChargeablePaymentMethod {
  method: PaymentMethod;
  providerToken: string | null;
}

export interface PaymentMethodRepository {
  /** Stores the method; it becomes the default when asked or when the user has no default yet. */
  add(method: NewPaymentMethod, makeDefault: boolean): Promise<PaymentMethod>;
  countActive(userId: string): Promise<number>;
  findByIds(ids: readonly string[]): Promise<PaymentMethod[]>;
  findChargeable(id: string): Promise<ChargeablePaymentMethod | null>;
  /** Newest first, id breaking ties. */
  listActive(userId: string, query: { limit: number; after: CreatedAtCursor | null }): Promise<PaymentMethod[]>;
  /**
   * Forgets the token and hides the method; a removed default hands the role to the newest remaining
   * method. Returns false when there was no active method with this id for this user.
   */
  remove(userId: string, id: string): Promise<boolean>;
  /** Returns false when there is no active method with this id for this user. */
  setDefault(userId: string, id: string): Promise<boolean>;
}
