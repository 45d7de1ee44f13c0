/**
 * Who sees the card on a payment. An order names its card by id at checkout, so a payment can point at
 * someone else's card (that charge fails with payment_method_unavailable): the card is still shown to
 * its owner only.
 */
import type { Viewer } from '@commerce/platform';
import { viewPaymentMethodOfPayment } from '../src/application/view-payment.ts';
import { isVisibleTo, type PaymentMethod } from '../src/domain/payment-method.ts';

const cardOf = (userId: string, id = `pm-${userId}`): PaymentMethod => ({
  id,
  userId,
  brand: 'VISA',
  last4: '4242',
  expMonth: 12,
  expYear: 2030,
  isDefault: true,
  createdAt: new Date('2026-01-01T00:00:00Z'),
  removedAt: null,
});

const customerA: Viewer = { userId: 'user-a', role: 'CUSTOMER' };
const admin: Viewer = { userId: 'admin-1', role: 'ADMIN' };

function cardsOf(...cards: PaymentMethod[]) {
  const loaded: string[] = [];
  const load = async (id: string) => {
    loaded.push(id);
    return cards.find((card) => card.id === id) ?? null;
  };
  return { load, loaded };
}

describe('the card on a payment', () => {
  it('is shown to the card owner, also after the card was removed', async () => {
    const own = cardOf('user-a');
    const removed = { ...cardOf('user-a', 'pm-old'), removedAt: new Date() };
    const { load } = cardsOf(own, removed);
    expect(await viewPaymentMethodOfPayment(load, customerA, { paymentMethodId: own.id })).toBe(own);
    expect(await viewPaymentMethodOfPayment(load, customerA, { paymentMethodId: removed.id })).toBe(removed);
  });

  it("is null to a buyer whose order named someone else's card", async () => {
    const cardOfB = cardOf('user-b');
    const { load } = cardsOf(cardOfB);
    expect(await viewPaymentMethodOfPayment(load, customerA, { paymentMethodId: cardOfB.id })).toBeNull();
  });

  it('is null to admins, who see payments but never cards', async () => {
    const cardOfA = cardOf('user-a');
    const { load } = cardsOf(cardOfA);
    expect(await viewPaymentMethodOfPayment(load, admin, { paymentMethodId: cardOfA.id })).toBeNull();
  });

  it('is null, without a lookup, when the payment names no card; anonymous callers must sign in', async () => {
    const { load, loaded } = cardsOf(cardOf('user-a'));
    expect(await viewPaymentMethodOfPayment(load, customerA, { paymentMethodId: null })).toBeNull();
    expect(loaded).toEqual([]);
    await expect(viewPaymentMethodOfPayment(load, null, { paymentMethodId: 'pm-user-a' })).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('follows one rule: the owner, and nobody else', () => {
    expect(isVisibleTo(cardOf('user-a'), 'user-a')).toBe(true);
    expect(isVisibleTo(cardOf('user-a'), 'user-b')).toBe(false);
  });
});
