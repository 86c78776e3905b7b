import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { YooKassaClient } from '../infra/yookassa/client';
import { toAmountString, toMinorUnits } from '../infra/yookassa/amount';
import { paymentNotice } from '../infra/yookassa/notice';
import { YooKassaRejectedError } from '../infra/yookassa/errors';
import { TelegramRejectedError } from '../infra/telegram/errors';
import type { StarTransaction, TelegramSender } from '../infra/telegram/sender';
import {
  type PaymentLink,
  type PaymentNotice,
  type PurchaseInput,
  purchaseWorkflowId,
} from '../workflows/purchase-messages';
import { Failure } from '../workflows/failures';
import { autoRenewIdempotenceKey } from './auto-renew';
import { inTransaction, payFromBalance, refundToBalance } from './balance';
import { createStarsSubscriptionLink, isStarsSubscription } from './stars-subscriptions';
import { poolQuery } from '../infra/db/query';
import type { PaymentRow, UserRow } from '../infra/db/rows';

/** What Telegram's transaction list says about a claimed Stars charge. */
export interface StarChargeCheck {
  verdict: 'verified' | 'unknown_charge' | 'wrong_amount' | 'wrong_payer' | 'refunded' | 'unknown_payment';
  /** Who paid, when Telegram lists the charge: a charge that buys nothing goes back to them. */
  payerId?: string;
}

const STAR_PAGE = 100;
// Telegram answers a repeated refund with 400 "CHARGE_ALREADY_REFUNDED": the Stars are back, as wanted.
const ALREADY_REFUNDED = /CHARGE_ALREADY_REFUNDED/;
const CHARGE_NOT_FOUND = /CHARGE_NOT_FOUND|CHARGE_ID_INVALID/;

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
      Failure.PaymentProviderUnavailable,
    );
  };
  const requireTelegram = (): TelegramSender => {
    if (telegram) return telegram;
    // Retryable: a worker that has BOT_TOKEN can take the task (ops see the error meanwhile).
    throw ApplicationFailure.retryable(
      'BOT_TOKEN is not set: cannot reach Telegram Stars',
      'TelegramNotConfigured',
    );
  };
  /** Refunds one Stars charge; a charge refunded before (our DB write failed after it) counts as done. */
  async function refundStars(userId: number, chargeId: string): Promise<'refunded' | 'already_refunded'> {
    try {
      await requireTelegram().refundStarPayment(userId, chargeId);
      return 'refunded';
    } catch (err) {
      if (err instanceof TelegramRejectedError && ALREADY_REFUNDED.test(err.description)) {
        logger.info({ chargeId }, 'stars charge was refunded already');
        return 'already_refunded';
      }
      throw err;
    }
  }
  // Transactions only grow, oldest first: later look-ups start from the last full page seen (then from 0).
  let starPageHint = 0;
  async function findStarCharge(chargeId: string): Promise<StarTransaction[]> {
    for (const start of starPageHint > 0 ? [starPageHint, 0] : [0]) {
      const found: StarTransaction[] = [];
      for (let offset = start; ; offset += STAR_PAGE) {
        const page = await requireTelegram().getStarTransactions(offset, STAR_PAGE);
        found.push(...page.filter((t) => t.id === chargeId));
        if (page.length < STAR_PAGE) break;
        starPageHint = Math.max(starPageHint, offset);
      }
      if (found.length > 0) return found;
    }
    return [];
  }
  const rejected = (err: unknown, type: string) => {
    if (err instanceof YooKassaRejectedError) return ApplicationFailure.nonRetryable(err.message, type);
    return err;
  };

  return {
    /** Records our payment row, then asks the provider; a retry finds the row and repeats the same request. */
    async createPayment(input: PurchaseInput): Promise<PaymentLink> {
      if (input.provider === 'balance') return payFromBalance(orm, logger, input);
      const stars = input.provider === 'stars';
      if (stars && !input.tariff.starPrice)
        throw ApplicationFailure.nonRetryable('tariff has no Stars price', Failure.PaymentRejected);
      const topUp = input.purpose === 'topup';
      const free = input.provider === 'free'; // a 100 % promo code: nothing to ask any provider for
      const amount = free
        ? '0.00'
        : stars
          ? `${input.tariff.starPrice}.00`
          : topUp
            ? (input.amount ?? '')
            : input.tariff.price;
      const currency = stars ? 'XTR' : input.tariff.currency;
      await sql().execute(
        `insert into payments (id, user_id, tariff_id, provider, provider_payment_id, amount, currency, expires_at, metadata, purpose,
            save_payment_method, credit_amount, credit_currency)
         values (?, ?, ?, ?, ?, ?, ?, now() + make_interval(secs => ?), ?, ?, ?, ?, ?) on conflict (id) do nothing`,
        [
          input.paymentId,
          input.userId,
          topUp ? null : input.tariff.id,
          input.provider,
          stars || free ? input.paymentId : null,
          amount,
          currency,
          input.paymentTimeoutMs / 1000,
          JSON.stringify({
            workflow_id: purchaseWorkflowId(input.paymentId),
            telegram_id: input.telegramId,
            // A Stars subscription's recurring charge: which subscription (its first payment) and which charge.
            ...(input.starsRenewal
              ? {
                  stars_renewal_of: input.starsRenewal.subscriptionPaymentId,
                  stars_charge_id: input.starsRenewal.chargeId,
                }
              : {}),
          }),
          input.purpose ?? 'subscription',
          // Consent on a card keeps the card; on Stars it makes the invoice a Stars subscription.
          input.savePaymentMethod === true && !free && !input.starsRenewal,
          // A top-up credits the roubles asked, whatever it is charged in (Stars: quoted by the API).
          topUp ? input.amount : null,
          topUp ? input.tariff.currency : null,
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
      if (stars && isStarsSubscription(input)) {
        // Auto-renew by Stars: an invoice link with subscription_period; Telegram charges every 30 days itself.
        if (row.confirmation_url) return link(input.paymentId, row.confirmation_url);
        const url = await createStarsSubscriptionLink(
          requireTelegram(),
          input,
          Number(input.tariff.starPrice),
        );
        await sql().execute(`update payments set confirmation_url = ? where id = ?`, [url, input.paymentId]);
        return link(input.paymentId, url);
      }
      if (stars || free) return link(input.paymentId, null);
      if (row.provider_payment_id) return link(row.provider_payment_id, row.confirmation_url);

      const renewal = input.autoRenew;
      const payment = await requireYooKassa()
        .createPayment({
          // An auto-renew charge: the key comes from the access and its period, so one period is one charge.
          idempotenceKey: renewal ? autoRenewIdempotenceKey(renewal) : input.paymentId,
          amount,
          currency,
          description: (topUp
            ? 'VPN: balance top-up'
            : `VPN: ${input.tariff.name}${renewal ? ' (auto-renewal)' : ''}`
          ).slice(0, 128),
          metadata: { purchase_id: input.paymentId, telegram_id: input.telegramId },
          returnUrl,
          ...(input.savePaymentMethod ? { savePaymentMethod: true } : {}),
          ...(renewal?.paymentMethodId ? { paymentMethodId: renewal.paymentMethodId } : {}),
        })
        .catch((err) => {
          throw rejected(err, Failure.PaymentRejected);
        });
      const url = payment.confirmation?.confirmation_url ?? null;
      await sql().execute(`update payments set provider_payment_id = ?, confirmation_url = ? where id = ?`, [
        payment.id,
        url,
        input.paymentId,
      ]);
      // A saved card is charged at once: its final answer goes to the workflow with the link.
      if (renewal && (payment.status === 'succeeded' || payment.status === 'canceled'))
        return { ...link(payment.id, url), settled: paymentNotice(payment) };
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
      if (input.provider === 'free') return { status: 'canceled' }; // nothing was asked of anyone
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

    /**
     * A Stars charge claimed for this payment, checked with Telegram: listed as paid by the payment's user,
     * for the payment's amount, and not refunded. The bot's word alone buys nothing.
     */
    async verifyStarCharge({
      paymentId,
      chargeId,
    }: {
      paymentId: string;
      chargeId: string;
    }): Promise<StarChargeCheck> {
      const [p] = await sql().execute(
        `select p.amount, p.currency, p.provider, u.telegram_id from payments p join users u on u.id = p.user_id where p.id = ?`,
        [paymentId],
      );
      if (p?.provider !== 'stars') return { verdict: 'unknown_payment' };
      const listed = chargeId ? await findStarCharge(chargeId) : [];
      const paid = listed.find((t) => t.source);
      const payerId = paid?.source?.user?.id === undefined ? undefined : String(paid.source.user.id);
      const log = logger.child({ paymentId, chargeId });
      let check: StarChargeCheck;
      if (!paid) check = { verdict: 'unknown_charge' };
      else if (listed.some((t) => t.receiver)) check = { verdict: 'refunded' };
      else if (paid.source?.type !== 'user' || payerId !== String(p.telegram_id))
        check = { verdict: 'wrong_payer', payerId };
      else if (BigInt(paid.amount) * 100n !== toMinorUnits(toAmountString(p.amount)))
        check = { verdict: 'wrong_amount', payerId };
      else check = { verdict: 'verified', payerId };
      if (check.verdict === 'verified') log.info('stars charge verified with Telegram');
      else log.error({ verdict: check.verdict }, 'stars charge NOT verified with Telegram');
      return check;
    },

    /** Returns one Stars charge that bought nothing (an orphan or a second charge). Idempotent. */
    async refundStarCharge({
      telegramId,
      chargeId,
      paymentId,
      reason,
    }: {
      telegramId: string;
      chargeId: string;
      paymentId: string | null;
      reason: string;
    }): Promise<'refunded' | 'already_refunded'> {
      try {
        const outcome = await refundStars(Number(telegramId), chargeId);
        logger.warn({ paymentId, chargeId, reason, outcome }, 'stray stars charge refunded');
        return outcome;
      } catch (err) {
        if (err instanceof TelegramRejectedError && CHARGE_NOT_FOUND.test(err.description))
          throw ApplicationFailure.nonRetryable(
            `Telegram knows no charge ${chargeId} of user ${telegramId}`,
            Failure.StarChargeNotFound,
          );
        throw err;
      }
    },

    /** Returns the money through the provider that took it. Idempotent: one refund per payment. */
    async refundPayment({ paymentId, reason }: { paymentId: string; reason: string }): Promise<void> {
      const [p] = await poolQuery(orm.em)<PaymentRow & Pick<UserRow, 'telegram_id'>>(
        `select p.*, u.telegram_id from payments p join users u on u.id = p.user_id where p.id = ?`,
        [paymentId],
      );
      if (!p || p.status === 'refunded') return;
      let refundId: string;
      if (p.provider === 'balance') {
        // Money from the balance goes back to it, booked with the status change in one transaction.
        await inTransaction(orm, async (q) => {
          const reference = await refundToBalance(q, p);
          await q(
            `update payments set status = 'refunded', refund_id = ?, refunded_at = now(), refunded_amount = amount where id = ? and status <> 'refunded'`,
            [reference, paymentId],
          );
          await q(`insert into subscription_events (payment_id, type, data) values (?, 'refunded', ?)`, [
            paymentId,
            JSON.stringify({ refund_id: reference, reason, to: 'balance' }),
          ]);
        });
        logger.warn({ paymentId, reason }, 'balance payment refunded to the balance');
        return;
      }
      if (p.provider === 'free') {
        refundId = 'free'; // a 100 % promo purchase took no money: only the record changes
      } else if (p.provider === 'stars') {
        if (!telegram)
          throw ApplicationFailure.nonRetryable(
            'BOT_TOKEN is not set: cannot refund Stars',
            Failure.RefundImpossible,
          );
        if (!p.telegram_payment_charge_id)
          throw ApplicationFailure.nonRetryable('no telegram_payment_charge_id', Failure.RefundImpossible);
        await refundStars(Number(p.telegram_id), p.telegram_payment_charge_id);
        refundId = p.telegram_payment_charge_id;
      } else {
        // With 54-FZ receipts on, the refund's receipt line names what the payment's line named.
        const [tariff] = await sql().execute(`select name from tariffs where id = ?`, [p.tariff_id]);
        if (!p.provider_payment_id)
          throw ApplicationFailure.nonRetryable('no provider_payment_id', Failure.RefundImpossible);
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
            `update payments set status = 'refunded', refund_id = ?, refunded_at = now(), refunded_amount = amount where id = ?`,
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
