import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { TelegramRejectedError } from '../infra/telegram/errors';
import type { TelegramSender } from '../infra/telegram/sender';
import { Failure } from '../workflows/failures';
import type { PaymentNotice, PurchaseInput } from '../workflows/purchase-messages';

// Stars subscriptions (issue 13). A Stars payment with auto-renew consent is sold through an invoice link with
// `subscription_period` (30 days, the only period Telegram allows); Telegram then charges the user every 30 days
// by itself and the bot gets a recurring successful_payment with the same payload. Each such charge is one
// renewal purchase (api/stars-subscription.ts); switching auto-renew off or canceling tells Telegram through
// editUserStarSubscription (starsSubscriptionCancelWorkflow), so it stops the next charge.

/** Telegram's one subscription period (Bot API createInvoiceLink `subscription_period`): 30 days. */
export const STARS_SUBSCRIPTION_PERIOD_SECONDS = 2_592_000;

/** One charge id always names the same renewal payment (and so the same purchase-<id> workflow). */
export function starsRenewalPaymentId(chargeId: string): string {
  const h = createHash('sha256').update(`stars-renewal:${chargeId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A Stars invoice that subscribes: the buyer consented to auto-renew. */
export const isStarsSubscription = (input: PurchaseInput) =>
  input.provider === 'stars' && input.savePaymentMethod === true && !input.starsRenewal;

/** The invoice link of a Stars subscription; refused (for good) for a tariff that is not 30 days long. */
export async function createStarsSubscriptionLink(
  telegram: TelegramSender,
  input: PurchaseInput,
  stars: number,
): Promise<string> {
  if (input.tariff.durationSeconds !== STARS_SUBSCRIPTION_PERIOD_SECONDS)
    throw ApplicationFailure.nonRetryable(
      `a Stars subscription renews every 30 days; tariff ${input.tariff.id} is not 30 days long`,
      Failure.PaymentRejected,
    );
  const title = `VPN: ${input.tariff.name}`.slice(0, 32);
  try {
    return await telegram.createInvoiceLink({
      title,
      description: `${input.tariff.name}: renews every 30 days until you cancel`.slice(0, 255),
      payload: input.paymentId,
      currency: 'XTR',
      prices: [{ label: title, amount: stars }],
      subscription_period: STARS_SUBSCRIPTION_PERIOD_SECONDS,
    });
  } catch (err) {
    // Telegram refused the invoice itself (a 400): asking again gives the same answer.
    if (err instanceof TelegramRejectedError)
      throw ApplicationFailure.nonRetryable(err.message, Failure.PaymentRejected);
    throw err;
  }
}

/**
 * With a verified Stars payment's success: the first payment of a subscription opens its row (and switches
 * auto-renew on: Telegram charges, not us); a renewal charge moves the subscription's next charge date.
 */
export async function bookStarsSubscription(
  orm: MikroORM,
  paymentId: string,
  notice: PaymentNotice,
): Promise<void> {
  if (notice.currency !== 'XTR' || !notice.telegramChargeId) return;
  const conn = orm.em.getConnection();
  const expiresAt = notice.starsSubscriptionExpiresAt ?? null;
  await conn.execute(
    `insert into stars_subscriptions (payment_id, user_id, charge_id, expires_at)
     select id, user_id, ?, ? from payments
      where id = ? and provider = 'stars' and save_payment_method and metadata->>'stars_renewal_of' is null
     on conflict (payment_id) do nothing`,
    [notice.telegramChargeId, expiresAt, paymentId],
  );
  const [opened] = await conn.execute(`select user_id from stars_subscriptions where payment_id = ?`, [
    paymentId,
  ]);
  if (opened)
    await conn.execute(
      `insert into auto_renew_settings (user_id, enabled) values (?, true)
       on conflict (user_id) do update set enabled = true, updated_at = now()`,
      [opened.user_id],
    );
  if (expiresAt)
    await conn.execute(
      `update stars_subscriptions set expires_at = greatest(expires_at, ?), updated_at = now()
        where payment_id = (select (metadata->>'stars_renewal_of')::uuid from payments where id = ?)`,
      [expiresAt, paymentId],
    );
}

export interface StarsSubscriptionDeps {
  orm: MikroORM;
  telegram: TelegramSender | null;
  logger: Logger;
}

/** Telegram's answer when a subscription's paid period is over or it never knew the charge id. */
const GONE_AT_TELEGRAM = /CHARGE_ID_INVALID|SUBSCRIPTION_EXPIRED/;

export function createStarsSubscriptionActivities({ orm, telegram, logger }: StarsSubscriptionDeps) {
  const requireTelegram = () => {
    if (!telegram)
      throw ApplicationFailure.retryable(
        'BOT_TOKEN is not set: cannot reach Telegram Stars',
        'TelegramNotConfigured',
      );
    return telegram;
  };
  return {
    /**
     * Tells Telegram what our books say now: `canceled` → is_canceled true (no next charge), `active` →
     * is_canceled false (auto-renew switched on again within the paid period). A revival Telegram refuses
     * because the period is over goes back to `canceled` in our books, so status never promises a charge.
     */
    async syncStarSubscription(
      subscriptionPaymentId: string,
    ): Promise<'canceled' | 'renewing' | 'expired' | 'unknown'> {
      const tg = requireTelegram();
      const conn = orm.em.getConnection();
      const [row] = await conn.execute(
        `select ss.status, ss.charge_id, u.telegram_id from stars_subscriptions ss
           join users u on u.id = ss.user_id where ss.payment_id = ?`,
        [subscriptionPaymentId],
      );
      if (!row) return 'unknown';
      const cancel = row.status === 'canceled';
      try {
        await tg.editUserStarSubscription(Number(row.telegram_id), row.charge_id, cancel);
      } catch (err) {
        if (!(err instanceof TelegramRejectedError && GONE_AT_TELEGRAM.test(err.description))) throw err;
        logger.warn({ subscriptionPaymentId, cancel }, 'stars subscription unknown to Telegram or expired');
        if (cancel) return 'unknown';
        await conn.execute(
          `update stars_subscriptions set status = 'canceled', canceled_at = now(), updated_at = now(),
                  cancel_reason = 'its paid period ended at Telegram before auto-renew came back on'
            where payment_id = ? and status = 'active'`,
          [subscriptionPaymentId],
        );
        return 'expired';
      }
      logger.info({ subscriptionPaymentId, cancel }, 'stars subscription synced with Telegram');
      return cancel ? 'canceled' : 'renewing';
    },

    /** editUserStarSubscription(is_canceled: true): Telegram charges no more. Repeating it is harmless.
     * Kept for cancels started before the sync workflow existed. */
    async cancelStarSubscription({
      telegramId,
      chargeId,
      subscriptionPaymentId,
    }: {
      telegramId: string;
      chargeId: string;
      subscriptionPaymentId: string;
    }): Promise<'canceled' | 'unknown'> {
      const tg = requireTelegram();
      try {
        await tg.editUserStarSubscription(Number(telegramId), chargeId, true);
      } catch (err) {
        // Telegram no longer knows it (it ended on its own): nothing left to stop.
        if (err instanceof TelegramRejectedError && GONE_AT_TELEGRAM.test(err.description)) {
          logger.warn({ subscriptionPaymentId, chargeId }, 'stars subscription unknown to Telegram');
          return 'unknown';
        }
        throw err;
      }
      logger.info({ subscriptionPaymentId, chargeId }, 'stars subscription canceled at Telegram');
      return 'canceled';
    },
  };
}
