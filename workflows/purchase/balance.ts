import { balance } from '../activity-options';
import { accept, enterStage, notify, type Purchase } from './state';

// The balance's two hooks into the purchase: a payment from the balance is settled at creation, and a paid
// top-up buys balance instead of access.

/** Provider `balance`: createPayment debited the balance with the payment row, so the payment is settled. */
export function acceptBalancePayment(p: Purchase): void {
  if (!p.link) return;
  accept(p, {
    providerPaymentId: p.input.paymentId,
    status: 'succeeded',
    amount: p.link.amount,
    currency: p.link.currency,
  });
}

/** Purpose `topup`, paid: credited once (the ledger is unique per payment), then the user hears the new balance. */
export async function creditTopUp(p: Purchase): Promise<{ outcome: 'topped_up' }> {
  enterStage(p, 'PROVISIONING');
  const credited = await balance.creditTopUp({ paymentId: p.input.paymentId, notice: p.settled! });
  enterStage(p, 'NOTIFYING');
  await notify(p, {
    kind: 'balance_topped_up',
    paymentId: p.input.paymentId,
    amount: credited.amount,
    balance: credited.balance,
  });
  enterStage(p, 'COMPLETED');
  return { outcome: 'topped_up' };
}
