import type { Logger } from 'pino';
import { type Context, TelegramError } from 'telegraf';
import type { InlineKeyboardButton } from 'telegraf/types';
import { langFor, type Messages, PARSE_MODE, t } from '../infra/i18n';
import type { ApiClient } from './api-client';
import { type CallbackAction, encodeCallback } from '../infra/telegram/callbacks';

/** What every handler needs; built once in createBot. */
export interface BotDeps {
  api: ApiClient;
  supportUrl: string;
  adminIds: ReadonlySet<number>;
  logger: Logger;
  /** REFERRAL_BONUS_DAYS, shown on the invite screen (default 7). */
  referralBonusDays?: number;
}

export type Rows = InlineKeyboardButton[][];

/** The user's texts, from their Telegram language_code (ru by default). */
export function textsFor(ctx: Context): Messages {
  return t(langFor(ctx.from?.language_code));
}

export function cb(text: string, action: CallbackAction): InlineKeyboardButton {
  return { text, callback_data: encodeCallback(action) };
}

export function link(text: string, url: string): InlineKeyboardButton {
  return { text, url };
}

export function mainMenuRows(m: Messages, supportUrl: string): Rows {
  return [
    [cb(m.buttons.tariffs, { type: 'tariffs' })],
    [cb(m.buttons.mySubscription, { type: 'subscription' })],
    [cb(m.botMoney.balanceButton, { type: 'balance' })],
    [cb(m.referralGift.inviteButton, { type: 'referral' })],
    [cb(m.buttons.setupGuide, { type: 'guides' }), link(m.buttons.support, supportUrl)],
  ];
}

export function extra(rows?: Rows) {
  return {
    parse_mode: PARSE_MODE,
    link_preview_options: { is_disabled: true },
    ...(rows ? { reply_markup: { inline_keyboard: rows } } : {}),
  };
}

const isTelegramError = (err: unknown, code: number, pattern?: RegExp) =>
  err instanceof TelegramError && err.code === code && (!pattern || pattern.test(err.description));

/** Set by the callback router for `keep` buttons: their message must not be replaced. */
export const KEEP_MESSAGE = 'keepMessage';

/**
 * Shows a screen. Tapping a button edits the message in place (a menu, not a chat log); a command, a
 * `keep` button, or a message that cannot be edited (a photo, too old) gets a fresh reply instead.
 */
export async function show(ctx: Context, text: string, rows?: Rows): Promise<void> {
  const message = ctx.state[KEEP_MESSAGE] ? undefined : ctx.callbackQuery?.message;
  if (message && 'text' in message) {
    try {
      await ctx.editMessageText(text, extra(rows));
      return;
    } catch (err) {
      if (isTelegramError(err, 400, /not modified/)) return; // the same screen tapped twice
      if (!isTelegramError(err, 400)) throw err;
    }
  }
  await ctx.reply(text, extra(rows));
}

/** Stops the button's loading spinner; a query too old to answer must not abort the action itself. */
export async function answerQuietly(ctx: Context, text?: string): Promise<void> {
  if (!ctx.callbackQuery) return;
  await ctx.answerCbQuery(text).catch(() => undefined);
}

/** Telegram refused because the user blocked us, or we are rate limited: replying would fail the same way. */
export function cannotReply(err: unknown): boolean {
  return isTelegramError(err, 403) || isTelegramError(err, 429);
}
