import { randomBytes } from 'node:crypto';
import type { BotApiCore, StarTransaction } from './methods';
import type { TgMessage, TgUpdate, TgUser } from './state';

/** A user given by id, optionally with profile fields (language_code, username, …). */
export type UserRef = number | (Partial<TgUser> & { id: number });

export interface PreCheckoutInput {
  from: UserRef;
  payload: string;
  total_amount: number;
  currency?: string;
}

export interface SuccessfulPaymentInput {
  from: UserRef;
  payload: string;
  total_amount: number;
  telegram_payment_charge_id: string;
  currency?: string;
}

/** The user pays a createInvoiceLink link (`https://t.me/$…`); a link with subscription_period subscribes. */
export interface InvoiceLinkPayment {
  from: UserRef;
  url: string;
  telegram_payment_charge_id?: string;
}

/** Bot API SuccessfulPayment (Stars: empty provider_payment_charge_id). */
export interface SuccessfulPayment {
  currency: string;
  total_amount: number;
  invoice_payload: string;
  telegram_payment_charge_id: string;
  provider_payment_charge_id: string;
  subscription_expiration_date?: number;
  is_recurring?: true;
  is_first_recurring?: true;
}

export interface TappedButton {
  text: string;
  /** Set for callback buttons: the id of the injected callback_query. */
  callbackId?: string;
  callbackData?: string;
  /** Set for URL buttons: where the tap would lead. */
  url?: string;
}

/** What a Telegram user does, turned into updates for the bot. */
export interface UpdateInjector {
  injectMessage(chatId: number, text: string, from?: Partial<TgUser>): TgUpdate;
  injectCommand(chatId: number, command: string, args?: string, from?: Partial<TgUser>): TgUpdate;
  /**
   * The user answers a force-reply prompt: a message with `reply_to_message`, as Telegram clients send it.
   * Defaults to the bot's latest message in the chat.
   */
  injectReply(chatId: number, text: string, replyToMessageId?: number, from?: Partial<TgUser>): TgUpdate;
  /** Returns the callback_query id the bot must answer. Defaults to the bot's latest message in the chat. */
  injectCallback(chatId: number, data: string, messageId?: number): string;
  /** Finds a button by its text in the bot's latest message with a keyboard and taps it. */
  tapButton(chatId: number, text: string | RegExp): TappedButton;
  injectPreCheckout(input: PreCheckoutInput): string;
  injectSuccessfulPayment(input: SuccessfulPaymentInput): TgUpdate;
  /** Pays an invoice link: the Stars are taken and the bot gets successful_payment (first of a subscription). */
  payInvoiceLink(input: InvoiceLinkPayment): SuccessfulPayment;
  /**
   * Telegram's next recurring charge of a Stars subscription (named by its first charge id): null when the
   * subscription is canceled, as Telegram then charges nothing; `force` charges anyway (a charge already under
   * way when the cancel arrived).
   */
  chargeStarSubscription(
    firstChargeId: string,
    opts?: { telegram_payment_charge_id?: string; force?: boolean },
  ): SuccessfulPayment | null;
}

const newId = () => randomBytes(8).readBigUInt64BE().toString();

export function createInjector(core: BotApiCore): UpdateInjector {
  const user = (ref: UserRef) =>
    typeof ref === 'number' ? core.chats.user(ref) : core.chats.user(ref.id, ref);
  const botMessages = (chatId: number) => core.chats.messages(chatId, core.bot.id);

  function injectMessage(chatId: number, text: string, from?: Partial<TgUser>): TgUpdate {
    const sender = core.chats.user(chatId, from);
    const command = /^\/[A-Za-z0-9_]+(@\w+)?/.exec(text);
    const entities = command ? [{ type: 'bot_command', offset: 0, length: command[0].length }] : undefined;
    const message = core.chats.addMessage(chatId, sender, { text, ...(entities ? { entities } : {}) });
    return core.updates.push({ message });
  }

  function injectCallback(chatId: number, data: string, messageId?: number): string {
    const message: TgMessage | undefined =
      messageId === undefined ? botMessages(chatId).at(-1) : core.chats.message(chatId, messageId);
    const id = newId();
    core.callbackQueries.set(id, { answered: false });
    core.updates.push({
      callback_query: {
        id,
        from: core.chats.user(chatId),
        chat_instance: String(chatId),
        data,
        ...(message ? { message } : {}),
      },
    });
    return id;
  }

  /** Stars move to the bot: listed by getStarTransactions and refundable; the bot gets successful_payment. */
  function starsPaid(payer: ReturnType<typeof user>, payment: SuccessfulPayment, period?: number) {
    core.charges.set(payment.telegram_payment_charge_id, { userId: payer.id, refunded: false });
    const source: NonNullable<StarTransaction['source']> = { type: 'user', user: payer };
    if (period !== undefined)
      Object.assign(source, { invoice_payload: payment.invoice_payload, subscription_period: period });
    core.starTransactions.push({
      id: payment.telegram_payment_charge_id,
      amount: payment.total_amount,
      date: Math.floor(Date.now() / 1000),
      source,
    });
    const message = core.chats.addMessage(payer.id, payer, { successful_payment: payment });
    core.updates.push({ message });
    return payment;
  }

  function injectReply(chatId: number, text: string, replyToMessageId?: number, from?: Partial<TgUser>) {
    const prompt =
      replyToMessageId === undefined
        ? botMessages(chatId).at(-1)
        : core.chats.message(chatId, replyToMessageId);
    if (!prompt) throw new Error(`no bot message to reply to in chat ${chatId}`);
    const sender = core.chats.user(chatId, from);
    const message = core.chats.addMessage(chatId, sender, { text, reply_to_message: prompt });
    return core.updates.push({ message });
  }

  return {
    payInvoiceLink({ from, url, telegram_payment_charge_id = `stxsub${newId()}` }) {
      const link = core.invoiceLinks.get(url.replace(/^https:\/\/t\.me\/\$/, ''));
      if (!link) throw new Error(`no invoice link ${url}`);
      const payer = user(from);
      const payment: SuccessfulPayment = {
        currency: link.currency,
        total_amount: link.total,
        invoice_payload: link.payload,
        telegram_payment_charge_id,
        provider_payment_charge_id: '',
      };
      const period = link.subscriptionPeriod;
      if (period !== undefined) {
        const expiresAt = Math.floor(Date.now() / 1000) + period;
        core.starSubscriptions.set(telegram_payment_charge_id, {
          userId: payer.id,
          payload: link.payload,
          amount: link.total,
          period,
          expiresAt,
          canceled: false,
          charges: [telegram_payment_charge_id],
        });
        Object.assign(payment, {
          subscription_expiration_date: expiresAt,
          is_recurring: true,
          is_first_recurring: true,
        });
      }
      return starsPaid(payer, payment, period);
    },
    chargeStarSubscription(firstChargeId, opts = {}) {
      const sub = core.starSubscriptions.get(firstChargeId);
      if (!sub) throw new Error(`no Stars subscription ${firstChargeId}`);
      if (sub.canceled && !opts.force) return null;
      const chargeId = opts.telegram_payment_charge_id ?? `stxsub${newId()}`;
      sub.expiresAt += sub.period;
      sub.charges.push(chargeId);
      return starsPaid(
        core.chats.user(sub.userId),
        {
          currency: 'XTR',
          total_amount: sub.amount,
          invoice_payload: sub.payload,
          telegram_payment_charge_id: chargeId,
          provider_payment_charge_id: '',
          subscription_expiration_date: sub.expiresAt,
          is_recurring: true,
        },
        sub.period,
      );
    },
    injectMessage,
    injectReply,
    injectCommand: (chatId, command, args, from) =>
      injectMessage(chatId, `/${command.replace(/^\//, '')}${args ? ` ${args}` : ''}`, from),
    injectCallback,
    tapButton(chatId, text) {
      const matches = (t: string) => (typeof text === 'string' ? t === text : text.test(t));
      const withKeyboard = botMessages(chatId).filter((m) => m.reply_markup?.inline_keyboard);
      const message = withKeyboard.at(-1);
      const button = message?.reply_markup?.inline_keyboard?.flat().find((b) => matches(String(b.text)));
      if (!message || !button) {
        const shown = message?.reply_markup?.inline_keyboard?.flat().map((b) => b.text) ?? [];
        throw new Error(
          `No button ${text} in chat ${chatId}; the latest keyboard has: ${shown.join(' | ') || 'nothing'}`,
        );
      }
      if (typeof button.callback_data === 'string') {
        const callbackId = injectCallback(chatId, button.callback_data, message.message_id);
        return { text: String(button.text), callbackId, callbackData: button.callback_data };
      }
      return { text: String(button.text), url: button.url === undefined ? undefined : String(button.url) };
    },
    injectPreCheckout({ from, payload, total_amount, currency = 'XTR' }) {
      const id = newId();
      core.preCheckouts.set(id, { answered: false, createdAt: Date.now() });
      core.updates.push({
        pre_checkout_query: { id, from: user(from), currency, total_amount, invoice_payload: payload },
      });
      return id;
    },
    injectSuccessfulPayment({ from, payload, total_amount, telegram_payment_charge_id, currency = 'XTR' }) {
      const payer = user(from);
      core.charges.set(telegram_payment_charge_id, { userId: payer.id, refunded: false });
      if (currency === 'XTR')
        core.starTransactions.push({
          id: telegram_payment_charge_id,
          amount: total_amount,
          date: Math.floor(Date.now() / 1000),
          source: { type: 'user', user: payer },
        });
      const successful_payment = {
        currency,
        total_amount,
        invoice_payload: payload,
        telegram_payment_charge_id,
        provider_payment_charge_id: currency === 'XTR' ? '' : `provider-${telegram_payment_charge_id}`,
      };
      const message = core.chats.addMessage(payer.id, payer, { successful_payment });
      return core.updates.push({ message });
    },
  };
}
