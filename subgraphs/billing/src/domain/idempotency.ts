/**
 * Idempotency keys derived from what a request is about, so a retry anywhere (a redelivered event,
 * a second worker, a restarted process) reaches the provider with the same key and cannot charge twice.
 */
export const chargeKeyForOrder = (orderId: string): string => `order:${orderId}:charge`;

/** The provider-side key of one refund row: re-driving a pending refund never refunds twice. */
export const providerKeyForRefund = (refundId: string): string => `refund:${refundId}`;

/** The key of the full refund that cancelling a confirmed order triggers (one per order). */
export const cancellationRefundKey = (orderId: string): string => `order:${orderId}:cancellation-refund`;
