import { ApplicationFailure, Context } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import {
  TelegramBlockedError,
  TelegramRateLimitedError,
  TelegramRejectedError,
} from '../infra/telegram/errors';
import type { InlineButton, TelegramSender } from '../infra/telegram/sender';
import type { BroadcastCounts, DeliveryOutcome } from '../workflows/broadcast-messages';
import { Failure } from '../workflows/failures';

export interface BroadcastDeps {
  orm: MikroORM;
  /** Only the telegram queue's worker sends; the purchases worker only pages. */
  sender?: TelegramSender;
  logger: Logger;
  onSendError?: (code: string) => void;
}

/** Attempts per recipient before it counts as failed (429s included: they wait retry_after each time). */
export const BROADCAST_SEND_ATTEMPTS = 8;

interface Message {
  text: string;
  photoUrl: string | null;
  buttons: InlineButton[][];
}

/**
 * Broadcast sends. Each recipient's broadcast_deliveries row is claimed (`pending` → `sending`) before the
 * send and closed after it. A row found `sending` means an attempt died mid-send: whether Telegram took it
 * is unknown, and a marketing message must never reach anyone twice, so it is closed as `failed`
 * (at most once). Everything with an answer from Telegram (403, 429, 400, 5xx) is settled exactly.
 */
export function createBroadcastActivities({ orm, sender, logger, onSendError }: BroadcastDeps) {
  const sql = (query: string, params: unknown[] = []) => orm.em.getConnection().execute(query, params);
  const messages = new Map<string, Promise<Message>>();
  const settle = (broadcastId: string, telegramId: string, status: string, detail: string | null = null) =>
    sql(
      `update broadcast_deliveries set status = ?, detail = ?, updated_at = now() where broadcast_id = ? and telegram_id = ?`,
      [status, detail, broadcastId, telegramId],
    );

  function messageOf(broadcastId: string): Promise<Message> {
    let message = messages.get(broadcastId);
    if (!message) {
      message = sql(`select text, photo_url, buttons from broadcasts where id = ?`, [broadcastId]).then(
        ([b]) => {
          if (!b)
            throw ApplicationFailure.nonRetryable(
              `broadcast ${broadcastId} not found`,
              Failure.BroadcastNotFound,
            );
          return { text: b.text, photoUrl: b.photo_url, buttons: b.buttons ?? [] };
        },
      );
      message.catch(() => messages.delete(broadcastId));
      messages.set(broadcastId, message);
      if (messages.size > 20) messages.delete(messages.keys().next().value!);
    }
    return message;
  }

  return {
    /** The next recipients still to send, in telegram id order. */
    async pendingRecipients({
      broadcastId,
      limit,
    }: {
      broadcastId: string;
      limit: number;
    }): Promise<string[]> {
      const rows = await sql(
        `select telegram_id from broadcast_deliveries where broadcast_id = ? and status = 'pending' order by telegram_id limit ?`,
        [broadcastId, limit],
      );
      return rows.map((r) => String(r.telegram_id));
    },

    /**
     * The next page, its counts so far and the sends still in flight, all from the rows: the counts stay
     * exact whatever happened to earlier runs (a send cancelled by a pause may still have finished). A row
     * left `sending` longer than `staleAfterMs` belongs to an attempt that died with its worker and will not
     * be retried (cancelled by a pause): it comes back in the page, and the send closes it as interrupted.
     */
    async nextBroadcastPage({
      broadcastId,
      limit,
      staleAfterMs,
    }: {
      broadcastId: string;
      limit: number;
      staleAfterMs: number;
    }): Promise<{ recipients: string[]; counts: BroadcastCounts; inFlight: number }> {
      const rows = await sql(
        `(select telegram_id from broadcast_deliveries where broadcast_id = ? and status = 'pending'
           order by telegram_id limit ?)
         union all
         (select telegram_id from broadcast_deliveries where broadcast_id = ? and status = 'sending'
            and updated_at < now() - make_interval(secs => ?) order by telegram_id limit ?)`,
        [broadcastId, limit, broadcastId, staleAfterMs / 1000, limit],
      );
      const tally = await sql(
        `select status, count(*)::int as n, count(*) filter (where updated_at >= now() - make_interval(secs => ?))::int as fresh
           from broadcast_deliveries where broadcast_id = ? group by status`,
        [staleAfterMs / 1000, broadcastId],
      );
      const n = (status: string) => tally.find((r) => r.status === status)?.n ?? 0;
      return {
        recipients: rows.slice(0, limit).map((r) => String(r.telegram_id)),
        counts: { sent: n('sent'), failed: n('failed'), blocked: n('blocked') },
        inFlight: tally.find((r) => r.status === 'sending')?.fresh ?? 0,
      };
    },

    async sendBroadcastMessage({
      broadcastId,
      telegramId,
    }: {
      broadcastId: string;
      telegramId: string;
    }): Promise<DeliveryOutcome> {
      if (!sender)
        throw ApplicationFailure.nonRetryable('no Telegram sender on this worker', Failure.NoSender);
      const [claimed] = await sql(
        `update broadcast_deliveries d set status = 'sending', updated_at = now()
          where broadcast_id = ? and telegram_id = ? and status = 'pending'
          returning (select is_blocked from users u where u.telegram_id = d.telegram_id) as is_blocked`,
        [broadcastId, telegramId],
      );
      if (!claimed) {
        const [row] = await sql(
          `select status from broadcast_deliveries where broadcast_id = ? and telegram_id = ?`,
          [broadcastId, telegramId],
        );
        if (!row)
          throw ApplicationFailure.nonRetryable(`${telegramId} is not a recipient`, Failure.NotARecipient);
        if (row.status !== 'sending') return row.status as DeliveryOutcome; // settled by an earlier attempt
        await settle(broadcastId, telegramId, 'failed', 'interrupted mid-send; not repeated');
        return 'failed';
      }
      // Blocked the bot since the broadcast was created (e.g. by an earlier broadcast's 403): skipped.
      if (claimed.is_blocked) {
        await settle(broadcastId, telegramId, 'blocked', 'blocked the bot');
        return 'blocked';
      }
      const message = await messageOf(broadcastId);
      const chatId = Number(telegramId);
      const opts = { buttons: message.buttons, parseMode: 'HTML' as const };
      try {
        if (message.photoUrl) await sender.sendPhotoByUrl(chatId, message.photoUrl, message.text, opts);
        else await sender.sendMessage(chatId, message.text, opts);
      } catch (err) {
        return failed(err, broadcastId, telegramId);
      }
      await settle(broadcastId, telegramId, 'sent');
      return 'sent';
    },
  };

  async function failed(err: unknown, broadcastId: string, telegramId: string): Promise<DeliveryOutcome> {
    if (err instanceof TelegramBlockedError) {
      onSendError?.('403');
      await settle(broadcastId, telegramId, 'blocked', err.message.slice(0, 200));
      // Later broadcasts (and notifications) skip this user.
      await sql(`update users set is_blocked = true, updated_at = now() where telegram_id = ?`, [telegramId]);
      return 'blocked';
    }
    if (err instanceof TelegramRejectedError) {
      onSendError?.('400');
      await settle(broadcastId, telegramId, 'failed', err.message.slice(0, 200));
      return 'failed';
    }
    const attempt = Context.current().info.attempt;
    if (attempt >= BROADCAST_SEND_ATTEMPTS) {
      logger.warn({ broadcastId, telegramId, err: (err as Error).message }, 'broadcast send gave up');
      await settle(broadcastId, telegramId, 'failed', (err as Error).message.slice(0, 200));
      return 'failed';
    }
    // Telegram answered and did not send: the row goes back to pending and this activity is retried.
    await settle(broadcastId, telegramId, 'pending');
    if (err instanceof TelegramRateLimitedError) {
      onSendError?.('429');
      throw ApplicationFailure.create({
        message: err.message,
        type: Failure.TelegramRateLimited,
        nextRetryDelay: `${err.retryAfterSec}s`,
      });
    }
    onSendError?.('5xx');
    throw err;
  }
}
