import type { PaymentNotice } from '../../workflows/purchase-messages';
import { paymentNotice } from '../../infra/yookassa/notice';
import { paymentNoticeSignal } from '../../workflows/purchase-messages';
import type { PurchaseSystem } from './system';

/** What the webhook handler does after its checks: re-read the payment at the provider and signal that. */
export async function signalProviderState(
  sys: PurchaseSystem,
  paymentId: string,
  providerPaymentId: string,
): Promise<PaymentNotice> {
  const notice = paymentNotice(sys.yookassa.payment(providerPaymentId));
  await sys.client.workflow.getHandle(`purchase-${paymentId}`).signal(paymentNoticeSignal, notice);
  return notice;
}

// biome-ignore lint/suspicious/noExplicitAny: raw rows from SQL
type Row = Record<string, any>;

export async function rowsFor(
  sys: PurchaseSystem,
  telegramId: number,
): Promise<{ subscriptions: Row[]; payments: Row[]; events: Row[] }> {
  const conn = sys.orm.em.getConnection();
  const subscriptions = await conn.execute(
    `select s.* from subscriptions s join users u on u.id = s.user_id where u.telegram_id = ? order by s.created_at`,
    [telegramId],
  );
  const payments = await conn.execute(
    `select p.* from payments p join users u on u.id = p.user_id where u.telegram_id = ? order by p.created_at`,
    [telegramId],
  );
  const events = await conn.execute(
    `select e.* from subscription_events e join payments p on p.id = e.payment_id join users u on u.id = p.user_id
      where u.telegram_id = ? order by e.id`,
    [telegramId],
  );
  return { subscriptions, payments, events };
}
