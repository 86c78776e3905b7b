import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { YooKassaClient } from '../infra/yookassa/client';
import { paymentNotice } from '../infra/yookassa/notice';
import { YooKassaRejectedError } from '../infra/yookassa/errors';
import type { TelegramSender } from '../infra/telegram/sender';
import type { PaymentLink, PaymentNotice, PurchaseInput } from '../workflows/purchase-messages';

export interface PaymentDeps {
  orm: MikroORM;
  yookassa: YooKassaClient | null;
  telegram: TelegramSender | null;
  returnUrl: string;
  logger: Logger;
}

/** Payment providers (YooKassa, Telegram Stars). Idempotence keys come from our payment id. */
export function createPaymentActivities({ orm, yookassa, telegram, returnUrl, logger }: PaymentDeps) {
  const sql = () => orm.em.getConnection();
  const requireYooKassa = (): YooKassaClient => {
    if (yookassa) return yookassa;
    throw ApplicationFailure.nonRetryable(
      'YooKassa is not configured (YOOKASSA_SHOP_ID)',
      'PaymentProviderUnavailable',
    );
  };
  const rejected = (err: unknown, type: string) => {
    if (err instanceof YooKassaRejectedError) return ApplicationFailure.nonRetryable(err.message, type);
    return err;
  };

  return {
    /** Records our payment row, then asks the provider; a retry finds the row and repeats the same request. */
    async createPayment(input: PurchaseInput): Promise<PaymentLink> {
      const stars = input.provider === 'stars';
      if (stars && !input.tariff.starPrice)
        throw ApplicationFailure.nonRetryable('tariff has no Stars price', 'PaymentRejected');
      const amount = stars ? `${input.tariff.starPrice}.00` : input.tariff.price;
      const currency = stars ? 'XTR' : input.tariff.currency;
      await sql().execute(
        `insert into payments (id, user_id, tariff_id, provider, provider_payment_id, amount, currency, expires_at, metadata)
         values (?, ?, ?, ?, ?, ?, ?, now() + make_interval(secs => ?), ?) on conflict (id) do nothing`,
        [
          input.paymentId,
          input.userId,
          input.tariff.id,
          input.provider,
          stars ? input.paymentId : null,
          amount,
          currency,
          input.paymentTimeoutMs / 1000,
          JSON.stringify({ workflow_id: `purchase-${input.paymentId}`, telegram_id: input.telegramId }),
        ],
      );
      const [row] = await sql().execute(`select * from payments where id = ?`, [input.paymentId]);
      const link = (providerPaymentId: string | null, url: string | null): PaymentLink => ({
        paymentId: input.paymentId,
        providerPaymentId,
        confirmationUrl: url,
        amount,
        currency,
        createdAt: new Date(row.created_at).toISOString(),
        expiresAt: new Date(row.expires_at).toISOString(),
        status: 'pending',
      });
      if (stars) return link(input.paymentId, null);
      if (row.provider_payment_id) return link(row.provider_payment_id, row.confirmation_url);

      const payment = await requireYooKassa()
        .createPayment({
          idempotenceKey: input.paymentId,
          amount,
          currency,
          description: `VPN: ${input.tariff.name}`.slice(0, 128),
          metadata: { purchase_id: input.paymentId, telegram_id: input.telegramId },
          returnUrl,
        })
        .catch((err) => {
          throw rejected(err, 'PaymentRejected');
        });
      const url = payment.confirmation?.confirmation_url ?? null;
      await sql().execute(`update payments set provider_payment_id = ?, confirmation_url = ? where id = ?`, [
        payment.id,
        url,
        input.paymentId,
      ]);
      return link(payment.id, url);
    },

    async getPaymentState({ providerPaymentId }: { providerPaymentId: string }): Promise<PaymentNotice> {
      return paymentNotice(await requireYooKassa().getPayment(providerPaymentId));
    },

    /**
     * At the payment deadline: cancel if the provider allows it, and report the final state.
     * "pending" means the provider keeps it open (YooKassa cannot cancel a one-stage pending payment).
     */
    async cancelOrGetFinalState(
      input: PurchaseInput,
    ): Promise<PaymentNotice | { status: 'canceled' | 'pending' }> {
      if (input.provider === 'stars') return { status: 'canceled' }; // an unpaid invoice costs nothing; pre-checkout refuses it now
      const [row] = await sql().execute(`select provider_payment_id from payments where id = ?`, [
        input.paymentId,
      ]);
      if (!row?.provider_payment_id) return { status: 'canceled' };
      const client = requireYooKassa();
      let current = await client.getPayment(row.provider_payment_id);
      if (current.status === 'waiting_for_capture') {
        current = await client.cancelPayment(current.id, `cancel-${input.paymentId}`).catch(async (err) => {
          if (!(err instanceof YooKassaRejectedError)) throw err;
          return client.getPayment(row.provider_payment_id);
        });
      }
      if (current.status === 'succeeded' || current.status === 'canceled') return paymentNotice(current);
      return { status: 'pending' };
    },

    /** Returns the money through the provider that took it. Idempotent: one refund per payment. */
    async refundPayment({ paymentId, reason }: { paymentId: string; reason: string }): Promise<void> {
      const [p] = await sql().execute(
        `select p.*, u.telegram_id from payments p join users u on u.id = p.user_id where p.id = ?`,
        [paymentId],
      );
      if (!p || p.status === 'refunded') return;
      let refundId: string;
      if (p.provider === 'stars') {
        if (!telegram)
          throw ApplicationFailure.nonRetryable(
            'BOT_TOKEN is not set: cannot refund Stars',
            'RefundImpossible',
          );
        if (!p.telegram_payment_charge_id)
          throw ApplicationFailure.nonRetryable('no telegram_payment_charge_id', 'RefundImpossible');
        await telegram.refundStarPayment(Number(p.telegram_id), p.telegram_payment_charge_id);
        refundId = p.telegram_payment_charge_id;
      } else {
        // With 54-FZ receipts on, the refund's receipt line names what the payment's line named.
        const [tariff] = await sql().execute(`select name from tariffs where id = ?`, [p.tariff_id]);
        const refund = await requireYooKassa().createRefund({
          idempotenceKey: `refund-${paymentId}`,
          paymentId: p.provider_payment_id,
          amount: p.amount,
          currency: p.currency,
          description: 'VPN access could not be provided',
          ...(tariff ? { receiptItem: `VPN: ${tariff.name}` } : {}),
        });
        refundId = refund.id;
      }
      await orm.em.fork().transactional(async (em) => {
        const ctx = em.getTransactionContext();
        await em
          .getConnection()
          .execute(
            `update payments set status = 'refunded', refund_id = ?, refunded_at = now() where id = ?`,
            [refundId, paymentId],
            'run',
            ctx,
          );
        await em
          .getConnection()
          .execute(
            `insert into subscription_events (payment_id, type, data) values (?, 'refunded', ?)`,
            [paymentId, JSON.stringify({ refund_id: refundId, reason })],
            'run',
            ctx,
          );
      });
      logger.warn({ paymentId, refundId, reason }, 'payment refunded');
    },
  };
}
