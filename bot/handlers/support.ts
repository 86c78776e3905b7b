import type { Context, Telegraf } from 'telegraf';
import { type BotDeps, cb, link, show, textsFor } from '../ui';

/** Support: a button that opens SUPPORT_URL; /help explains the bot and offers the same button. */
export function registerSupport(bot: Telegraf, deps: BotDeps): void {
  bot.help(async (ctx) => {
    const m = textsFor(ctx);
    await show(ctx, m.support.help, [
      [link(m.buttons.support, deps.supportUrl)],
      [cb(m.buttons.menu, { type: 'menu' })],
    ]);
  });
}

export async function showSupport(ctx: Context, deps: BotDeps): Promise<void> {
  const m = textsFor(ctx);
  await show(ctx, m.support.text, [
    [link(m.buttons.support, deps.supportUrl)],
    [cb(m.buttons.menu, { type: 'menu' })],
  ]);
}
