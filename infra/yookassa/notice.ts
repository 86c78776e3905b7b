import type { PaymentNotice } from '../../workflows/purchase-messages';
import type { Payment } from './types';

/** What the purchase workflow is told about a YooKassa payment: only what YooKassa itself returned. */
export function paymentNotice(p: Payment): PaymentNotice {
  return {
    providerPaymentId: p.id,
    status: p.status,
    amount: p.amount.value,
    currency: p.amount.currency,
    cancellationReason: p.cancellation_details?.reason ?? null,
    // Auto-renew: the id of a card the buyer agreed to save (a reference; card data never reaches us).
    ...(p.payment_method?.saved
      ? { savedMethod: { id: p.payment_method.id, title: p.payment_method.title ?? null } }
      : {}),
  };
}
