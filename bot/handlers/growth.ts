import type { Context, Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import { t } from '../../infra/i18n';
import { ApiRequestError, type Tariff } from '../api-client';
import { type BotDeps, cb, type Rows, show, textsFor } from '../ui';

/** Trials and promo codes in the bot: the trial offer on /start, and a promo code in ≤ 2 extra taps. */

const errorCode = (err: unknown) =>
  err instanceof ApiRequestError ? (err.body as { error?: string } | null)?.error : undefined;

/** The API's words for a refused promo code or trial, or null for anything else (the caller rethrows). */
export function growthRefusalText(err: unknown, ctx: Context): string | null {
  const code = errorCode(err);
  if (!code) return null;
  const m = textsFor(ctx);
  if (code === 'trial_used') return m.growth.trialUsed;
  if (code === 'trials_off') return m.growth.trialsOff;
  if (code.startsWith('promo_') || code === 'amount_below_minimum') return m.growth.promoRefusal(code);
  return null;
}

/** For the /start welcome: users who never had a trial (nor any access) get the offer and its button on top. */
export async function trialOffer(ctx: Context, deps: BotDeps): Promise<{ text: string; rows: Rows } | null> {
  if (!ctx.from) return null;
  const status = await deps.api.trialStatus(ctx.from.id).catch(() => null); // the offer must not break /start
  if (!status?.available) return null;
  const m = textsFor(ctx);
  const days = Math.max(1, Math.round(status.duration_seconds / 86_400));
  return { text: m.growth.trialOffer(days), rows: [[cb(m.growth.trialButton, { type: 'trial' })]] };
}

export async function startTrial(ctx: Context, deps: BotDeps): Promise<void> {
  if (!ctx.from) return;
  const m = textsFor(ctx);
  try {
    const trial = await deps.api.startTrial(ctx.from.id);
    await show(ctx, m.growth.trialStarted(trial.end_date));
  } catch (err) {
    const refusal = growthRefusalText(err, ctx);
    if (refusal === null) throw err;
    await show(ctx, refusal, [[cb(m.buttons.tariffs, { type: 'tariffs' })]]);
  }
}

/** The promo button: a force-reply prompt, so the code the user types comes back as a reply to it. */
export async function askPromo(ctx: Context): Promise<void> {
  await ctx.reply(textsFor(ctx).growth.promoAsk, {
    reply_markup: { force_reply: true, input_field_placeholder: 'PROMO2026' },
  });
}

const PROMPTS = new Set([t('ru').growth.promoAsk, t('en').growth.promoAsk]);

async function redeem(ctx: Context, deps: BotDeps, text: string): Promise<void> {
  if (!ctx.from) return;
  const m = textsFor(ctx);
  const code = text.trim().toUpperCase();
  if (!/^[A-Z0-9_-]{3,32}$/.test(code)) return show(ctx, m.growth.promoRefusal('promo_not_found'));
  try {
    const answer = await deps.api.redeemPromo(ctx.from.id, code);
    if (answer.kind === 'days') return show(ctx, m.growth.promoDaysAdded(answer.days_added ?? 0));
    // A discount: the tariff buttons carry the code on to the payment (the price is computed by the API).
    const tariffs: Tariff[] = await deps.api.listTariffs();
    const rows = tariffs.map((tariff) => [
      cb(
        m.buttons.tariff({
          name: tariff.name,
          durationDays: tariff.duration_days,
          price: tariff.price,
          currency: tariff.currency,
        }),
        { type: 'tariff', tariffId: tariff.id, promo: code },
      ),
    ]);
    await show(ctx, m.growth.promoDiscount(answer.value ?? '0', answer.kind), [
      ...rows,
      [cb(m.buttons.menu, { type: 'menu' })],
    ]);
  } catch (err) {
    const refusal = growthRefusalText(err, ctx);
    if (refusal === null) throw err;
    await show(ctx, refusal, [[cb(m.buttons.tariffs, { type: 'tariffs' })]]);
  }
}

/** `/promo CODE`, or a reply to the promo prompt. Registered before the catch-all text handler. */
export function registerGrowth(bot: Telegraf, deps: BotDeps): void {
  bot.command('promo', async (ctx) => {
    if (ctx.payload.trim()) return redeem(ctx, deps, ctx.payload);
    return askPromo(ctx);
  });
  bot.on(message('text'), async (ctx, next) => {
    const prompt = ctx.message.reply_to_message;
    if (prompt && 'text' in prompt && PROMPTS.has(prompt.text)) return redeem(ctx, deps, ctx.message.text);
    return next();
  });
}
