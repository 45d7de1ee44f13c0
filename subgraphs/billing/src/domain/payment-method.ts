/** What the provider tells us about a tokenized card: never more than brand, last 4 digits and expiry. */
export interface CardDetails {
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

export interface PaymentMethod extends CardDetails {
  id: string;
  userId: string;
  isDefault: boolean;
  createdAt: Date;
  removedAt: Date | null;
}

/** A user keeps at most this many active cards (bounds abuse of the provider through addPaymentMethod). */
export const MAX_ACTIVE_PAYMENT_METHODS = 20;

/** A card is valid through the last day of its expiry month. */
export function isExpired(card: Pick<CardDetails, 'expMonth' | 'expYear'>, now: Date): boolean {
  const year = now.getUTCFullYear();
  const month = now.getUTCMonth() + 1;
  return card.expYear < year || (card.expYear === year && card.expMonth < month);
}

export function isWellFormedCard(card: CardDetails): boolean {
  return (
    /^\d{4}$/.test(card.last4) &&
    Number.isInteger(card.expMonth) &&
    card.expMonth >= 1 &&
    card.expMonth <= 12 &&
    Number.isInteger(card.expYear) &&
    card.expYear >= 2000 &&
    card.brand.length > 0 &&
    card.brand.length <= 32
  );
}

export const isActive = (method: PaymentMethod): boolean => method.removedAt === null;

/**
 * A saved card is shown to its owner only: not to other customers, and not to admins either (support
 * never needs someone's wallet). This holds wherever a card is reached, also through a reference a
 * client supplied, such as the card an order named at checkout.
 */
export const isVisibleTo = (method: Pick<PaymentMethod, 'userId'>, viewerUserId: string): boolean =>
  method.userId === viewerUserId;
