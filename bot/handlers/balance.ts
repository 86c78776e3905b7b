import type { Context, Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import { t } from '../../infra/i18n';
import { ApiRequestError, type Balance, type Tariff } from '../api-client';
import { purchaseRefusalText } from '../api-refusals';
import { presentPayment } from './payments';
import { type BotDeps, cb, link, type Rows, show, textsFor } from '../ui';

// The balance in the bot (issue 13): the screen with the latest entries, a card top-up (preset or typed
// amount) and "pay from balance" on a tariff. Everything goes through the API; the ledger is the API's.

/** Entries shown under the balance (the API sends the latest 20). */
const SHOWN_ENTRIES = 5;
/** One-tap amounts, in RUB. */
export const TOP_UP_PRESETS = [100, 300, 500] as const;
/** The API's top-up range (api/balance-topup.ts), checked here first so a typo gets a clear answer. */
const TOP_UP_MIN = 10;
const TOP_UP_MAX = 100_000;

const backRows = (m: ReturnType<typeof textsFor>): Rows => [[cb(m.buttons.menu, { type: 'menu' })]];

const errorCode = (err: unknown) =>
  err instanceof ApiRequestError ? (err.body as { error?: string } | null)?.error : undefined;
const errorMessage = (err: ApiRequestError) => {
  const body = err.body as { error?: string; message?: string } | null;
  return body?.message ?? body?.error ?? `HTTP ${err.status}`;
};

export function balanceScreenText(m: ReturnType<typeof textsFor>, b: Balance): string {
  const entries = b.entries
    .slice(0, SHOWN_ENTRIES)
    .map((e) =>
      m.balance.entry({ amount: e.amount, currency: b.currency, reason: e.reason, createdAt: e.created_at }),
    );
  const list = entries.length ? `${m.balance.entriesTitle}\n${entries.join('\n')}` : m.balance.noEntries;
  return `${m.balance.screen({ balance: b.balance, currency: b.currency })}\n\n${list}`;
}

/** Card presets, Stars presets when the API sells top-ups by Stars, and "other amount" (by card). */
export function topUpRows(m: ReturnType<typeof textsFor>, starsOn = false): Rows {
  return [
    TOP_UP_PRESETS.map((amount) => cb(m.botMoney.topUpPreset(amount), { type: 'topUp', amount })),
    ...(starsOn
      ? [
          TOP_UP_PRESETS.map((amount) =>
            cb(m.botMoney.topUpStarsPreset(amount), { type: 'topUp', amount, method: 'stars' as const }),
          ),
        ]
      : []),
    [cb(m.botMoney.topUpOther, { type: 'topUpOther' })],
  ];
}

/** 💰 Balance: the sum, the last entries, top-up buttons. */
export async function showBalance(ctx: Context, deps: BotDeps): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const m = textsFor(ctx);
  const balance = (await deps.api.balance(from.id)) ?? { balance: '0.00', currency: 'RUB', entries: [] };
  const starsOn = Boolean(balance.topup_star_rate);
  const prompt = starsOn ? m.botMoney.topUpPromptStars : m.balance.topUpPrompt;
  await show(ctx, `${balanceScreenText(m, balance)}\n\n${prompt}`, [
    ...topUpRows(m, starsOn),
    [cb(m.buttons.tariffs, { type: 'tariffs' })],
    ...backRows(m),
  ]);
}

/** "Other amount": a force-reply prompt; the typed amount comes back as a reply (or as /topup 250). */
export async function askTopUpAmount(ctx: Context): Promise<void> {
  await ctx.reply(textsFor(ctx).botMoney.topUpAsk, {
    reply_markup: { force_reply: true, input_field_placeholder: '250' },
  });
}

/** A typed amount ("250", "99,50"), or the reason it is not one. */
export function parseTopUpAmount(
  text: string,
  m: ReturnType<typeof textsFor>,
): { amount: string } | { refusal: string } {
  const typed = text
    .trim()
    .replace(/\s+/g, '')
    .replace(',', '.')
    .replace(/(₽|руб\.?|rub)$/i, '');
  if (!/^\d{1,6}(\.\d{1,2})?$/.test(typed)) return { refusal: m.botMoney.topUpNotANumber };
  const value = Number(typed);
  if (value < TOP_UP_MIN || value > TOP_UP_MAX)
    return { refusal: m.botMoney.topUpOutOfRange({ min: TOP_UP_MIN, max: TOP_UP_MAX }) };
  return { amount: value.toFixed(2) };
}

/**
 * Creates the top-up and shows its payment link (card) or its invoice (Stars). `idempotencyKey` is one per
 * user action: a tap's callback id, or the typed message's id, so Telegram redelivering it returns the same
 * payment.
 */
export async function topUp(
  ctx: Context,
  deps: BotDeps,
  amount: string,
  idempotencyKey: string | undefined,
  method: 'card' | 'stars' = 'card',
): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const m = textsFor(ctx);
  const retry = [[cb(m.botMoney.balanceButton, { type: 'balance' })], ...backRows(m)];
  try {
    const provider = method === 'stars' ? 'stars' : 'yookassa';
    const payment = await deps.api.createTopUp(from.id, amount, idempotencyKey, provider);
    if (method === 'stars')
      return await presentPayment(ctx, payment, 'stars', undefined, m.botMoney.starsTopUpInvoice({ amount }));
    if (!payment.confirmation_url) throw new Error(`top-up ${payment.payment_id} has no confirmation_url`);
    await show(ctx, m.balance.topUpLink({ amount: String(payment.amount), currency: payment.currency }), [
      [link(m.buttons.goToPayment, payment.confirmation_url)],
      ...backRows(m),
    ]);
  } catch (err) {
    const refusal =
      purchaseRefusalText(err, m) ??
      (err instanceof ApiRequestError && (err.status === 422 || err.status === 403)
        ? m.botMoney.topUpRefused(errorMessage(err))
        : null);
    if (refusal === null) throw err;
    deps.logger.info({ telegramId: from.id, err: (err as Error).message }, 'top-up refused by the API');
    await show(ctx, refusal, retry);
  }
}

/** A preset amount's button. */
export function topUpPreset(
  ctx: Context,
  deps: BotDeps,
  amount: number,
  method: 'card' | 'stars' = 'card',
): Promise<void> {
  const key = ctx.callbackQuery ? `tg-tap-${ctx.callbackQuery.id}` : undefined;
  return topUp(ctx, deps, amount.toFixed(2), key, method);
}

/** The button on a tariff: shown when the balance covers the price (null when it does not, or is unknown). */
export async function payFromBalanceButton(ctx: Context, deps: BotDeps, tariff: Tariff) {
  if (!ctx.from) return null;
  const b = await deps.api.balance(ctx.from.id).catch(() => null); // the tariff screen must not depend on it
  if (!b || b.currency !== tariff.currency || Number(b.balance) < Number(tariff.price)) return null;
  const m = textsFor(ctx);
  return cb(m.balance.payFromBalance({ balance: b.balance, currency: b.currency }), {
    type: 'payBalance',
    tariffId: tariff.id,
  });
}

/** 💰 From balance: the API debits and provisions at once (or answers 409 insufficient_balance). */
export async function payFromBalance(ctx: Context, deps: BotDeps, tariffId: string): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const m = textsFor(ctx);
  const back = [cb(m.buttons.back, { type: 'tariff', tariffId })];
  // One key per tap, as for a card payment (bot/handlers/tariffs.ts): a redelivered tap debits once.
  const key = ctx.callbackQuery ? `tg-tap-${ctx.callbackQuery.id}` : undefined;
  try {
    const payment = await deps.api.createPayment(
      { telegram_id: from.id, tariff_id: tariffId, provider: 'balance' },
      key,
    );
    if (payment.payment_status !== 'succeeded')
      throw new Error(`balance payment ${payment.payment_id} is ${payment.payment_status}`);
    await show(ctx, m.balance.paidFromBalance, [[cb(m.buttons.mySubscription, { type: 'subscription' })]]);
  } catch (err) {
    if (errorCode(err) === 'insufficient_balance') {
      const [b, tariff] = await Promise.all([
        deps.api.balance(from.id),
        deps.api.listTariffs().then((all) => all.find((x) => x.id === tariffId)),
      ]);
      const text = tariff
        ? m.botMoney.insufficientTopUp({
            balance: b?.balance ?? '0.00',
            price: String(tariff.price),
            currency: tariff.currency,
          })
        : m.balance.insufficient;
      return show(ctx, text, [
        ...topUpRows(m),
        [cb(m.buttons.payCard, { type: 'pay', method: 'card', tariffId })],
        back,
      ]);
    }
    const refusal = purchaseRefusalText(err, m);
    if (refusal === null) throw err;
    await show(ctx, refusal, [back]);
  }
}

const PROMPTS = new Set([t('ru').botMoney.topUpAsk, t('en').botMoney.topUpAsk]);

async function typedTopUp(ctx: Context, deps: BotDeps, text: string): Promise<void> {
  const m = textsFor(ctx);
  const parsed = parseTopUpAmount(text, m);
  if ('refusal' in parsed) {
    await ctx.reply(parsed.refusal, {
      reply_markup: { inline_keyboard: [[cb(m.botMoney.topUpOther, { type: 'topUpOther' })]] },
    });
    return;
  }
  const msg = ctx.message;
  const key = msg && ctx.chat ? `tg-msg-${ctx.chat.id}-${msg.message_id}` : undefined;
  await topUp(ctx, deps, parsed.amount, key);
}

/** `/topup 250`, or a reply to the amount prompt. Registered before the catch-all text handler. */
export function registerBalance(bot: Telegraf, deps: BotDeps): void {
  bot.command('balance', (ctx) => showBalance(ctx, deps));
  bot.command('topup', (ctx) =>
    ctx.payload.trim() ? typedTopUp(ctx, deps, ctx.payload) : askTopUpAmount(ctx),
  );
  bot.on(message('text'), async (ctx, next) => {
    const prompt = ctx.message.reply_to_message;
    if (prompt && 'text' in prompt && PROMPTS.has(prompt.text))
      return typedTopUp(ctx, deps, ctx.message.text);
    return next();
  });
}
