import { createLogger } from '../logger';
import {
  classifyTelegramError,
  TelegramBlockedError,
  TelegramRateLimitedError,
  type TelegramErrorBody,
  TelegramRejectedError,
  type TelegramSendError,
  TelegramUnavailableError,
} from './errors';

/** A button under a message: opens a URL or sends `callbackData` back to the bot (≤ 64 bytes). */
export type InlineButton = { text: string; url: string } | { text: string; callbackData: string };

export interface SendOptions {
  buttons?: InlineButton[][];
  parseMode?: 'HTML' | 'MarkdownV2';
}

export interface SentMessage {
  messageId: number;
}

export interface TelegramSender {
  sendMessage(chatId: number, text: string, opts?: SendOptions): Promise<SentMessage>;
  sendPhoto(chatId: number, png: Buffer, caption?: string, opts?: SendOptions): Promise<SentMessage>;
  /** A photo Telegram fetches itself (broadcasts: `photo_url`). */
  sendPhotoByUrl(chatId: number, url: string, caption?: string, opts?: SendOptions): Promise<SentMessage>;
  refundStarPayment(userId: number, chargeId: string): Promise<void>;
  /** The bot's Star transactions in chronological order (Bot API getStarTransactions, ≤ 100 a page). */
  getStarTransactions(offset: number, limit: number): Promise<StarTransaction[]>;
  /** Bot API createInvoiceLink; with `subscription_period` (Stars only) the link sells a subscription. */
  createInvoiceLink(invoice: InvoiceLinkParams): Promise<string>;
  /** Bot API editUserStarSubscription: `isCanceled` true stops the next charge (the paid period still runs). */
  editUserStarSubscription(userId: number, chargeId: string, isCanceled: boolean): Promise<void>;
}

/** createInvoiceLink's fields we use (Bot API names). Stars: `currency: 'XTR'`, one price, no provider token. */
export interface InvoiceLinkParams {
  title: string;
  description: string;
  payload: string;
  currency: string;
  prices: Array<{ label: string; amount: number }>;
  /** Seconds between charges; Telegram accepts only 2592000 (30 days). */
  subscription_period?: number;
}

/** Bot API StarTransaction: `source` set for money in (a user paid), `receiver` for money out (a refund). */
export interface StarTransaction {
  id: string;
  amount: number;
  date: number;
  /** TransactionPartnerUser: a subscription's charges carry `subscription_period` and the `invoice_payload`. */
  source?: { type: string; user?: { id: number }; invoice_payload?: string; subscription_period?: number };
  receiver?: { type: string; user?: { id: number } };
}

export interface TelegramSenderConfig {
  apiRoot: string;
  botToken: string;
  timeoutMs?: number;
}

const log = createLogger('telegram-sender');

function replyMarkup(buttons: InlineButton[][] | undefined) {
  if (!buttons?.length) return undefined;
  return {
    inline_keyboard: buttons.map((row) =>
      row.map((b) =>
        'url' in b ? { text: b.text, url: b.url } : { text: b.text, callback_data: b.callbackData },
      ),
    ),
  };
}

/**
 * The notifier's one Telegram adapter: plain Bot API calls over fetch, failures mapped to typed errors.
 * It never retries by itself: retries and rate limits belong to the Temporal task queue.
 */
export function createTelegramSender(config: TelegramSenderConfig): TelegramSender {
  const base = `${config.apiRoot.replace(/\/+$/, '')}/bot${config.botToken}/`;
  const timeoutMs = config.timeoutMs ?? 10_000;

  async function call<T>(method: string, body: string | FormData, json: boolean): Promise<T> {
    let res: Response;
    try {
      res = await fetch(base + method, {
        method: 'POST',
        headers: json ? { 'content-type': 'application/json' } : undefined,
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      // Only the error's kind is kept: fetch errors can echo the URL, and the URL holds the bot token.
      const e = err as { name?: string; cause?: { code?: string } };
      const reason =
        e.name === 'TimeoutError' ? `timeout after ${timeoutMs}ms` : (e.cause?.code ?? e.name ?? 'error');
      log.warn({ method, reason }, 'telegram unreachable');
      throw new TelegramUnavailableError(method, 0, `network: ${reason}`);
    }
    const parsed = (await res.json().catch(() => undefined)) as
      | ({ ok: true; result: T } | ({ ok: false } & TelegramErrorBody))
      | undefined;
    if (parsed?.ok === true) return parsed.result;
    const error: TelegramSendError = classifyTelegramError(method, res.status, parsed);
    // 429s and blocked users are routine at volume (the caller handles them); only surprises are warnings.
    const level =
      error instanceof TelegramRateLimitedError
        ? 'debug'
        : error instanceof TelegramBlockedError
          ? 'info'
          : 'warn';
    log[level]({ method, code: error.code, description: error.description }, 'telegram call failed');
    throw error;
  }

  const json = (method: string, params: Record<string, unknown>) =>
    call<{ message_id: number }>(method, JSON.stringify(params), true);

  return {
    async sendMessage(chatId, text, opts = {}) {
      const msg = await json('sendMessage', {
        chat_id: chatId,
        text,
        parse_mode: opts.parseMode,
        reply_markup: replyMarkup(opts.buttons),
        link_preview_options: { is_disabled: true },
      });
      return { messageId: msg.message_id };
    },

    async sendPhoto(chatId, png, caption, opts = {}) {
      const form = new FormData();
      form.set('chat_id', String(chatId));
      form.set('photo', new Blob([png], { type: 'image/png' }), 'qr.png');
      if (caption !== undefined) form.set('caption', caption);
      if (opts.parseMode) form.set('parse_mode', opts.parseMode);
      const markup = replyMarkup(opts.buttons);
      if (markup) form.set('reply_markup', JSON.stringify(markup));
      const msg = await call<{ message_id: number }>('sendPhoto', form, false);
      return { messageId: msg.message_id };
    },

    async sendPhotoByUrl(chatId, url, caption, opts = {}) {
      const msg = await json('sendPhoto', {
        chat_id: chatId,
        photo: url,
        caption,
        parse_mode: opts.parseMode,
        reply_markup: replyMarkup(opts.buttons),
      });
      return { messageId: msg.message_id };
    },

    async refundStarPayment(userId, chargeId) {
      const ok = await call<boolean>(
        'refundStarPayment',
        JSON.stringify({ user_id: userId, telegram_payment_charge_id: chargeId }),
        true,
      );
      if (ok !== true) throw new TelegramRejectedError('refundStarPayment', 400, 'refund not confirmed');
    },

    async getStarTransactions(offset, limit) {
      const page = await call<{ transactions: StarTransaction[] }>(
        'getStarTransactions',
        JSON.stringify({ offset, limit }),
        true,
      );
      return page.transactions ?? [];
    },

    async createInvoiceLink(invoice) {
      return call<string>('createInvoiceLink', JSON.stringify({ provider_token: '', ...invoice }), true);
    },

    async editUserStarSubscription(userId, chargeId, isCanceled) {
      const ok = await call<boolean>(
        'editUserStarSubscription',
        JSON.stringify({ user_id: userId, telegram_payment_charge_id: chargeId, is_canceled: isCanceled }),
        true,
      );
      if (ok !== true)
        throw new TelegramRejectedError('editUserStarSubscription', 400, 'subscription edit not confirmed');
    },
  };
}
