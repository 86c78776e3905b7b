import { randomBytes } from 'node:crypto';
import { boolParam, intParam, strParam } from './params';
import { LongPoller } from './polling';
import { ApiFailure, ChatBook, type Params, type TgMessage, type TgUser, UpdateQueue } from './state';
import { checkInvoice, checkKeyboard, checkText } from './validate';

/** What a method handler receives besides its parameters. */
export interface CallContext {
  files: Record<string, Buffer>;
  /** Aborts a long poll when the HTTP client goes away. */
  signal: AbortSignal;
}

type Handler = (p: Params, ctx: CallContext) => unknown;

/** Bot API TransactionPartnerUser; a subscription's charges name the payload and the period. */
export interface StarPartnerUser {
  type: 'user';
  user: TgUser;
  invoice_payload?: string;
  subscription_period?: number;
}

/** Bot API StarTransaction with a TransactionPartnerUser partner. */
export interface StarTransaction {
  id: string;
  amount: number;
  date: number;
  source?: StarPartnerUser;
  receiver?: StarPartnerUser;
}

/** Telegram allows exactly one subscription period: 30 days. */
export const STAR_SUBSCRIPTION_PERIOD = 2_592_000;

/** An invoice link made by createInvoiceLink, payable by anyone who opens it. */
export interface InvoiceLink {
  payload: string;
  title: string;
  currency: string;
  total: number;
  subscriptionPeriod?: number;
}

/** A user's Stars subscription, known by its first charge id (what editUserStarSubscription takes). */
export interface StarSubscription {
  userId: number;
  payload: string;
  amount: number;
  period: number;
  /** Unix time the paid period ends: Telegram charges again then, unless canceled. */
  expiresAt: number;
  canceled: boolean;
  charges: string[];
}

export interface WebhookConfig {
  url: string;
  secretToken?: string;
}

const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const NOT_MODIFIED =
  'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message';

/** The Bot API methods the emulator implements, over its in-memory state. */
export class BotApiCore {
  readonly updates = new UpdateQueue();
  readonly chats = new ChatBook();
  readonly callbackQueries = new Map<string, { answered: boolean }>();
  readonly preCheckouts = new Map<string, { answered: boolean; createdAt: number }>();
  readonly charges = new Map<string, { userId: number; refunded: boolean }>();
  /** The bot's Star balance movements, oldest first: a payment in (`source`), a refund out (`receiver`). */
  readonly starTransactions: StarTransaction[] = [];
  /** createInvoiceLink's links, by the slug in `https://t.me/$<slug>`. */
  readonly invoiceLinks = new Map<string, InvoiceLink>();
  /** Stars subscriptions by their first charge id. */
  readonly starSubscriptions = new Map<string, StarSubscription>();
  webhook: WebhookConfig | null = null;
  webhookError: { date: number; message: string } | null = null;
  readonly poller = new LongPoller(this.updates, () => this.webhook !== null);

  constructor(readonly bot: TgUser) {}

  readonly handlers: Record<string, Handler> = {
    getMe: () => this.bot,
    getUpdates: (p, ctx) => this.poller.getUpdates(p, ctx.signal),
    sendMessage: (p) => this.send(p, { text: checkText(p, 'text', 4096) }),
    sendPhoto: (p, ctx) => {
      const upload = ctx.files.photo;
      if (!upload && typeof p.photo !== 'string')
        throw new ApiFailure(400, 'Bad Request: there is no photo in the request');
      if (upload && upload.length === 0) throw new ApiFailure(400, 'Bad Request: IMAGE_PROCESS_FAILED');
      const fileId = `photo-${randomBytes(6).toString('hex')}`;
      const photo = [
        { file_id: fileId, file_unique_id: fileId, width: 320, height: 320, file_size: upload?.length },
      ];
      return this.send(p, { photo, caption: checkText(p, 'caption', 1024) });
    },
    sendInvoice: (p) => {
      const inv = checkInvoice(p);
      const invoice = {
        title: inv.title,
        description: inv.description,
        // Empty: a forwarded copy keeps a Pay button; set: forwarded copies get a deep link instead.
        start_parameter: strParam(p, 'start_parameter') ?? '',
        currency: inv.currency,
        total_amount: inv.total,
      };
      return this.send(p, { invoice });
    },
    createInvoiceLink: (p) => {
      const inv = checkInvoice(p);
      const period = intParam(p, 'subscription_period', false);
      if (period !== undefined) {
        // Bot API: subscriptions are Stars only, 30 days, and at most 10000 Stars a period.
        if (period !== STAR_SUBSCRIPTION_PERIOD)
          throw new ApiFailure(400, 'Bad Request: SUBSCRIPTION_PERIOD_INVALID');
        if (inv.currency !== 'XTR') throw new ApiFailure(400, 'Bad Request: SUBSCRIPTION_CURRENCY_INVALID');
        if (inv.total > 10_000) throw new ApiFailure(400, 'Bad Request: SUBSCRIPTION_PRICE_INVALID');
      }
      const slug = randomBytes(9).toString('base64url');
      this.invoiceLinks.set(slug, {
        payload: inv.payload,
        title: inv.title,
        currency: inv.currency,
        total: inv.total,
        ...(period !== undefined ? { subscriptionPeriod: period } : {}),
      });
      return `https://t.me/$${slug}`;
    },
    editUserStarSubscription: (p) => {
      const userId = intParam(p, 'user_id')!;
      const sub = this.starSubscriptions.get(String(p.telegram_payment_charge_id ?? ''));
      if (!sub || sub.userId !== userId) throw new ApiFailure(400, 'Bad Request: CHARGE_ID_INVALID');
      const canceled = boolParam(p, 'is_canceled');
      if (canceled === undefined) throw new ApiFailure(400, 'Bad Request: is_canceled is empty');
      if (!canceled && sub.expiresAt <= Math.floor(Date.now() / 1000))
        throw new ApiFailure(400, 'Bad Request: SUBSCRIPTION_EXPIRED');
      sub.canceled = canceled;
      return true;
    },
    editMessageText: (p) => {
      const message = this.ownMessage(p, 'Bad Request: message to edit not found');
      if (message.text === undefined)
        throw new ApiFailure(400, 'Bad Request: there is no text in the message to edit');
      const text = checkText(p, 'text', 4096);
      checkKeyboard(p.reply_markup);
      if (text === message.text && JSON.stringify(p.reply_markup) === JSON.stringify(message.reply_markup)) {
        throw new ApiFailure(400, NOT_MODIFIED);
      }
      return Object.assign(message, {
        text,
        reply_markup: p.reply_markup,
        edit_date: Math.floor(Date.now() / 1000),
      });
    },
    editMessageReplyMarkup: (p) => {
      const message = this.ownMessage(p, 'Bad Request: message to edit not found');
      checkKeyboard(p.reply_markup);
      if (JSON.stringify(p.reply_markup) === JSON.stringify(message.reply_markup))
        throw new ApiFailure(400, NOT_MODIFIED);
      return Object.assign(message, {
        reply_markup: p.reply_markup,
        edit_date: Math.floor(Date.now() / 1000),
      });
    },
    deleteMessage: (p) => {
      this.ownMessage(p, 'Bad Request: message to delete not found');
      return this.chats.deleteMessage(intParam(p, 'chat_id')!, intParam(p, 'message_id')!);
    },
    answerCallbackQuery: (p) => {
      const query = this.callbackQueries.get(String(p.callback_query_id));
      if (!query || query.answered) {
        throw new ApiFailure(
          400,
          'Bad Request: query is too old and response timeout expired or query ID is invalid',
        );
      }
      query.answered = true;
      return true;
    },
    answerPreCheckoutQuery: (p) => {
      const query = this.preCheckouts.get(String(p.pre_checkout_query_id));
      // Telegram gives the bot 10 seconds; a later answer is refused and the user's payment fails.
      if (!query || query.answered || Date.now() - query.createdAt > 10_000) {
        throw new ApiFailure(
          400,
          'Bad Request: query is too old and response timeout expired or query ID is invalid',
        );
      }
      const ok = boolParam(p, 'ok');
      if (ok === undefined) throw new ApiFailure(400, 'Bad Request: ok is empty');
      if (!ok && !strParam(p, 'error_message')) throw new ApiFailure(400, 'Bad Request: ERROR_MESSAGE_EMPTY');
      query.answered = true;
      return true;
    },
    refundStarPayment: (p) => {
      const userId = intParam(p, 'user_id')!;
      const charge = this.charges.get(String(p.telegram_payment_charge_id ?? ''));
      if (!charge || charge.userId !== userId) throw new ApiFailure(400, 'Bad Request: CHARGE_NOT_FOUND');
      if (charge.refunded) throw new ApiFailure(400, 'Bad Request: CHARGE_ALREADY_REFUNDED');
      charge.refunded = true;
      const paid = this.starTransactions.find((t) => t.id === p.telegram_payment_charge_id && t.source);
      // Telegram lists the refund as a transaction with the original's id and the user as receiver.
      if (paid)
        this.starTransactions.push({
          id: paid.id,
          amount: paid.amount,
          date: Math.floor(Date.now() / 1000),
          receiver: paid.source,
        });
      return true;
    },
    getStarTransactions: (p) => {
      const offset = intParam(p, 'offset', false) ?? 0;
      const limit = intParam(p, 'limit', false) ?? 100;
      if (offset < 0) throw new ApiFailure(400, 'Bad Request: invalid offset specified');
      if (limit < 1 || limit > 100) throw new ApiFailure(400, 'Bad Request: invalid limit specified');
      return { transactions: this.starTransactions.slice(offset, offset + limit) };
    },
    setWebhook: (p) => {
      const url = strParam(p, 'url') ?? '';
      if (url === '')
        return this.handlers.deleteWebhook(p, { files: {}, signal: new AbortController().signal });
      if (!/^https?:\/\//.test(url))
        throw new ApiFailure(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
      const secretToken = strParam(p, 'secret_token');
      if (secretToken !== undefined && !SECRET_TOKEN.test(secretToken)) {
        throw new ApiFailure(400, 'Bad Request: secret token contains unallowed characters');
      }
      if (boolParam(p, 'drop_pending_updates')) this.updates.clear();
      this.webhook = { url, secretToken };
      this.poller.release(); // a pending long poll ends (with 409) once the webhook takes over
      return true;
    },
    deleteWebhook: (p) => {
      if (boolParam(p, 'drop_pending_updates')) this.updates.clear();
      this.webhook = null;
      this.webhookError = null;
      return true;
    },
    getWebhookInfo: () => ({
      url: this.webhook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: this.updates.size,
      ...(this.webhookError
        ? { last_error_date: this.webhookError.date, last_error_message: this.webhookError.message }
        : {}),
    }),
    setMyCommands: (p) => {
      if (!Array.isArray(p.commands)) throw new ApiFailure(400, 'Bad Request: commands must be an Array');
      return true;
    },
    deleteMyCommands: () => true,
    sendChatAction: () => true,
  };

  /** Methods that deliver a message and so count against Telegram's ~30 messages/s and hit blocked users. */
  static readonly SEND_METHODS = new Set(['sendMessage', 'sendPhoto', 'sendInvoice']);

  private send(p: Params, content: Partial<TgMessage>): TgMessage {
    const chatId = intParam(p, 'chat_id')!;
    checkKeyboard(p.reply_markup);
    const fields = Object.fromEntries(Object.entries(content).filter(([, v]) => v !== undefined));
    return this.chats.addMessage(chatId, this.bot, {
      ...fields,
      reply_markup: p.reply_markup as TgMessage['reply_markup'],
    });
  }

  private ownMessage(p: Params, notFound: string): TgMessage {
    if (p.inline_message_id !== undefined)
      throw new ApiFailure(400, 'Bad Request: inline messages are not emulated');
    const message = this.chats.message(intParam(p, 'chat_id')!, intParam(p, 'message_id')!);
    if (!message) throw new ApiFailure(400, notFound);
    if (message.from?.id !== this.bot.id && notFound.includes('edit')) {
      throw new ApiFailure(400, "Bad Request: message can't be edited");
    }
    return message;
  }
}
