import type { Context, Telegraf } from 'telegraf';
import { type BotDeps, mainMenuRows, show, textsFor } from '../ui';
import { trialOffer } from './growth';
import { claimGiftFromStart, giftCodeIn, startPayloadOf } from './referral-gift';

/** /start: register (keeping the deep-link payload as the referral) and show the main menu. */
export function registerStart(bot: Telegraf, deps: BotDeps): void {
  bot.start(async (ctx) => {
    const { from } = ctx;
    const referral = ctx.payload.trim();
    // Registration is idempotent on the API side (201 new / 200 existing), so every /start may call it.
    await deps.api.registerUser({
      telegram_id: from.id,
      username: from.username,
      first_name: from.first_name,
      last_name: from.last_name,
      language_code: from.language_code,
      ...(referral ? { referral: referral.slice(0, 64) } : {}),
      ...(startPayloadOf(referral) ? { start_payload: referral } : {}),
    });
    // /start gift_<code>: the forwarded gift link is claimed at once (the key follows by message).
    const giftCode = giftCodeIn(referral);
    if (giftCode) return claimGiftFromStart(ctx, deps, giftCode);
    const m = textsFor(ctx);
    const trial = await trialOffer(ctx, deps); // only for users who never had a trial or an access
    await ctx.reply(m.menu.welcome(from.first_name) + (trial ? `\n\n${trial.text}` : ''), {
      parse_mode: 'HTML',
      reply_markup: { inline_keyboard: [...(trial?.rows ?? []), ...mainMenuRows(m, deps.supportUrl)] },
    });
  });
  bot.command('menu', (ctx) => showMenu(ctx, deps));
}

export async function showMenu(ctx: Context, deps: BotDeps): Promise<void> {
  const m = textsFor(ctx);
  await show(ctx, m.menu.title, mainMenuRows(m, deps.supportUrl));
}
