import { badInput, conflict, DomainError, requireViewer, type Viewer } from '@commerce/platform';
import { checkPaymentToken } from '../domain/card-input.ts';
import { isExpired, isWellFormedCard, MAX_ACTIVE_PAYMENT_METHODS, type PaymentMethod } from '../domain/payment-method.ts';
import { ProviderUnavailableError } from '../ports/payment-provider.ts';
import type { BillingDeps } from './billing-deps.ts';

export interface AddPaymentMethodInput {
  token: string;
  makeDefault?: boolean | null;
}

/**
 * Saves a card the provider tokenized. Only the token, brand, last 4 digits and expiry are kept; a
 * raw card number is refused before anything else looks at it, and is never echoed or logged.
 */
export async function addPaymentMethod(
  deps: Pick<BillingDeps, 'methods' | 'provider' | 'clock' | 'ids' | 'logger'>,
  viewer: Viewer | null,
  input: AddPaymentMethodInput,
): Promise<PaymentMethod> {
  const { userId } = requireViewer(viewer);
  const check = checkPaymentToken(input.token);
  if (!check.ok) {
    if (check.problem === 'card_number') {
      // Logged without the input: the fact matters to operators, the digits must go nowhere.
      deps.logger.warn({ userId, field: 'token' }, 'refused a card number sent as a payment token');
      throw badInput(
        'token',
        'This looks like a card number. Send the token your payment form received from the payment provider; billing never accepts card numbers.',
      );
    }
    throw badInput('token', 'token is not a valid payment token');
  }
  if ((await deps.methods.countActive(userId)) >= MAX_ACTIVE_PAYMENT_METHODS) {
    throw conflict(`At most ${MAX_ACTIVE_PAYMENT_METHODS} payment methods can be saved; remove one first`);
  }

  let card;
  try {
    card = await deps.provider.describePaymentMethod({ token: check.token, customerId: userId });
  } catch (error) {
    if (error instanceof ProviderUnavailableError) {
      throw new DomainError('SERVICE_UNAVAILABLE', 'The payment provider is unavailable; try again shortly');
    }
    throw error;
  }
  if (!card) throw badInput('token', 'Unknown or expired payment token');
  if (!isWellFormedCard(card)) throw new Error('payment provider returned malformed card details');
  if (isExpired(card, deps.clock.now())) throw badInput('token', 'This card has expired');

  const method = await deps.methods.add(
    { id: deps.ids.newId(), userId, providerToken: check.token, ...card },
    input.makeDefault === true,
  );
  deps.logger.info({ userId, paymentMethodId: method.id, brand: method.brand }, 'payment method added');
  return method;
}
