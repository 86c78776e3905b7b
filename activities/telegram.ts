import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { loadAccess } from '../infra/access';
import { t } from '../infra/i18n';
import { fitsCaption } from '../infra/telegram/caption';
import type { InlineButton, TelegramSender } from '../infra/telegram/sender';
import {
  TelegramBlockedError,
  TelegramRateLimitedError,
  TelegramRejectedError,
} from '../infra/telegram/errors';
import { qrPng } from '../infra/xray/qr';
import { notificationCallbacks as buttons } from '../infra/telegram/callbacks';
import { Failure } from '../workflows/failures';
import type { Notification } from '../workflows/notification-messages';
import { composeReferralGift } from './gifts';
import { isUnpaidTrial, paidTariffButtons } from './trial-offer';
import { composeQuotaNotice } from './quota-notices';

export interface TelegramDeps {
  orm: MikroORM;
  sender: TelegramSender;
  publicBaseUrl: string;
  logger: Logger;
  onSendError?: (code: string) => void;
  /** BOT_USERNAME: gift links are https://t.me/<bot>?start=gift_<code>. */
  botUsername?: string;
}

export type { Notification };

/** One row per message in `notifications`: the same key is never sent twice. */
export function dedupeKey(n: Notification): string {
  const base = `${n.kind}:${n.paymentId ?? n.subscriptionId}:${n.expiresAt ?? ''}${n.noticeId ? `:${n.noticeId}` : ''}`;
  const key = n.resendId ? `${base}:resend:${n.resendId}` : base;
  if (n.fromNodeId) return `${key}:from:${n.fromNodeId}`;
  // Reminders queued before the offset was part of the key keep their old key (and their dedupe).
  return n.kind === 'reminder' && n.remindBeforeMs !== undefined ? `${key}:${n.remindBeforeMs}` : key;
}

/** Telegram notifications. Runs on the `telegram` task queue, whose server-side rate limit keeps us under 30/s. */
export function createTelegramActivities({
  orm,
  sender,
  publicBaseUrl,
  logger,
  onSendError,
  botUsername,
}: TelegramDeps) {
  const sql = () => orm.em.getConnection();

  /**
   * Claims the message; false if it was sent already. A row left 'sending' by a crash is claimed again:
   * Telegram has no idempotency key, and a lost activation key is worse than a repeated one (at-least-once).
   */
  async function claim(key: string, n: Notification): Promise<boolean> {
    const rows = await sql().execute(
      `insert into notifications (dedupe_key, telegram_id, kind) values (?, ?, ?)
       on conflict (dedupe_key) do update set status = 'sending' where notifications.status in ('sending', 'failed')
       returning dedupe_key`,
      [key, n.telegramId, n.kind],
    );
    return rows.length > 0;
  }

  async function compose(
    n: Notification,
  ): Promise<{ text: string; buttons?: InlineButton[][]; photo?: Buffer }> {
    const m = t(n.language);
    const renew = [[{ text: m.buttons.renew, callbackData: buttons.renew() }]];
    switch (n.kind) {
      case 'activated':
      case 'extended': {
        const access = await loadAccess(orm, n.subscriptionId!, publicBaseUrl);
        if (!access)
          throw ApplicationFailure.nonRetryable(
            `subscription ${n.subscriptionId} not found`,
            Failure.TelegramRejected,
          );
        if (n.kind === 'extended') return { text: m.notifications.renewed({ expiresAt: access.expiresAt }) };
        return {
          text: m.notifications.activation({
            expiresAt: access.expiresAt,
            vlessUrl: access.vlessUrl,
            subscriptionUrl: access.subscriptionUrl,
          }),
          buttons: [[{ text: m.buttons.setupGuide, callbackData: buttons.setupGuide() }]],
          photo: await qrPng(access.vlessUrl),
        };
      }
      case 'payment_failed':
        return {
          text: m.notifications.paymentFailed({ reason: n.reason }),
          buttons: [[{ text: m.buttons.retry, callbackData: buttons.retry(n.paymentId!) }]],
        };
      case 'payment_expired':
        return {
          text: m.notifications.paymentExpired,
          buttons: [[{ text: m.buttons.retry, callbackData: buttons.retry(n.paymentId!) }]],
        };
      case 'reminder': {
        const hoursLeft = Math.max(0, (Date.parse(n.expiresAt!) - Date.now()) / 3_600_000);
        // A trial's reminder offers the paid plans themselves (one tap each), not the generic Renew.
        if (n.subscriptionId && (await isUnpaidTrial(orm, n.subscriptionId)))
          return {
            text: m.growth.trialReminder({ hoursLeft, expiresAt: n.expiresAt! }),
            buttons: await paidTariffButtons(orm, n.language),
          };
        return { text: m.notifications.reminder({ hoursLeft, expiresAt: n.expiresAt! }), buttons: renew };
      }
      case 'expired':
        if (n.subscriptionId && (await isUnpaidTrial(orm, n.subscriptionId)))
          return { text: m.growth.trialEnded, buttons: await paidTariffButtons(orm, n.language) };
        return { text: m.notifications.expired, buttons: renew };
      case 'balance_topped_up':
        return {
          text: m.balance.toppedUp({ amount: n.amount ?? '', balance: n.balance ?? '', currency: 'RUB' }),
        };
      case 'node_moved': {
        // The vless:// key names the node, so it changed; a subscription-URL user's app follows by itself.
        const access = await loadAccess(orm, n.subscriptionId!, publicBaseUrl);
        if (!access)
          throw ApplicationFailure.nonRetryable(
            `subscription ${n.subscriptionId} not found`,
            Failure.TelegramRejected,
          );
        if (access.subscriptionFetched) return { text: m.notifications.nodeMovedSubscription };
        return {
          text: m.notifications.nodeMovedKey(access),
          buttons: [[{ text: m.buttons.setupGuide, callbackData: buttons.setupGuide() }]],
          photo: await qrPng(access.vlessUrl),
        };
      }
      case 'refunded': {
        const [p] = await sql().execute(`select amount, currency from payments where id = ?`, [n.paymentId]);
        return { text: m.notifications.refundDone({ amount: p?.amount ?? '', currency: p?.currency ?? '' }) };
      }
      case 'traffic_exhausted':
      case 'traffic_restored':
      case 'traffic_pack_added':
        return composeQuotaNotice(orm, { ...n, kind: n.kind });
      case 'auto_renewed': {
        const access = await loadAccess(orm, n.subscriptionId!, publicBaseUrl);
        return { text: m.autoRenew.renewed({ expiresAt: access?.expiresAt ?? n.expiresAt ?? '' }) };
      }
      case 'auto_renew_failed':
        return {
          text: m.autoRenew.failed({ expiresAt: n.expiresAt! }),
          buttons: [[{ text: m.autoRenew.payNow, callbackData: buttons.renew() }]],
        };
      case 'gift_link':
      case 'gift_claimed':
      case 'referral_bonus':
      case 'referral_welcome':
        return { text: await composeReferralGift(orm, { ...n, kind: n.kind }, botUsername) };
    }
  }

  return {
    async notify(n: Notification): Promise<'sent' | 'skipped' | 'blocked'> {
      const key = dedupeKey(n);
      const [user] = await sql().execute(`select is_blocked from users where telegram_id = ?`, [
        n.telegramId,
      ]);
      if (user?.is_blocked) return 'blocked';
      const message = await compose(n);
      const chatId = Number(n.telegramId);
      const photo = message.photo;
      const textOptions = { buttons: message.buttons, parseMode: 'HTML' as const };
      // Each part is claimed on its own: a retry after the text went out sends only the QR photo.
      const parts: Array<{ key: string; send: () => Promise<unknown> }> = [];
      if (photo && fitsCaption(message.text)) {
        // One send for the key and its QR (half the cost against Telegram's budget): the text is the caption.
        parts.push({ key, send: () => sender.sendPhoto(chatId, photo, message.text, textOptions) });
      } else {
        parts.push({ key, send: () => sender.sendMessage(chatId, message.text, textOptions) });
        if (photo) {
          const caption = t(n.language).notifications.activationQrCaption;
          parts.push({ key: `${key}:qr`, send: () => sender.sendPhoto(chatId, photo, caption) });
        }
      }
      const done = await sql().execute(
        `select dedupe_key from notifications where dedupe_key in (?) and status = 'sent'`,
        [parts.map((p) => p.key)],
      );
      const pending = parts.filter((p) => !done.some((d) => d.dedupe_key === p.key));
      if (pending.length === 0) return 'skipped';
      await keepChatPace(n.telegramId);
      for (const part of pending) {
        if (!(await claim(part.key, n))) continue;
        try {
          await part.send();
        } catch (err) {
          return handleSendError(err, part.key, n);
        }
        await sql().execute(
          `update notifications set status = 'sent', sent_at = now() where dedupe_key = ?`,
          [part.key],
        );
      }
      return 'sent';
    },
  };

  /** About one message a second per chat (Telegram's per-chat limit): a message due too soon waits a moment. */
  async function keepChatPace(telegramId: string): Promise<void> {
    const [row] = await sql().execute(
      `select extract(epoch from now() - max(sent_at)) * 1000 as ms from notifications where telegram_id = ? and status = 'sent'`,
      [telegramId],
    );
    const since = row?.ms == null ? Number.POSITIVE_INFINITY : Number(row.ms);
    if (since < 1000) {
      throw ApplicationFailure.create({
        message: 'per-chat pace',
        type: Failure.ChatPace,
        nextRetryDelay: `${Math.ceil(1000 - since)}ms`,
      });
    }
  }

  async function handleSendError(err: unknown, key: string, n: Notification): Promise<never> {
    const release = (status: string) =>
      sql().execute(`update notifications set status = ? where dedupe_key = ?`, [status, key]);
    if (err instanceof TelegramBlockedError) {
      onSendError?.('403');
      await release('blocked');
      await sql().execute(`update users set is_blocked = true, updated_at = now() where telegram_id = ?`, [
        n.telegramId,
      ]);
      logger.warn({ telegramId: n.telegramId, kind: n.kind }, 'user blocked the bot; no more messages');
      throw ApplicationFailure.nonRetryable(err.message, Failure.TelegramBlocked);
    }
    await release('failed');
    if (err instanceof TelegramRateLimitedError) {
      onSendError?.('429');
      throw ApplicationFailure.create({
        message: err.message,
        type: Failure.TelegramRateLimited,
        nextRetryDelay: `${err.retryAfterSec}s`,
      });
    }
    if (err instanceof TelegramRejectedError) {
      onSendError?.('400');
      throw ApplicationFailure.nonRetryable(err.message, Failure.TelegramRejected);
    }
    onSendError?.('5xx');
    throw err;
  }
}
