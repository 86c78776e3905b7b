import type { Context, Telegraf } from 'telegraf';
import type { PromoCodeStats } from '../api-client';
import { type BotDeps, show, textsFor } from '../ui';
import { isAdmin } from './admin';

/** /codes for admins: every promo code with its stats (activations, users, revenue), read with ADMIN_READ_TOKEN. */

const SHOWN = 30;

function line(c: PromoCodeStats, m: ReturnType<typeof textsFor>): string {
  return m.growth.adminCodeLine({
    code: c.code,
    kind: c.kind,
    value: c.value,
    activations: c.stats.activations,
    maxUses: c.max_uses ?? null,
    users: c.stats.users,
    revenue: c.stats.revenue,
    revenueStars: c.stats.revenue_stars,
    discount: c.stats.discount_given,
    active: c.is_active,
  });
}

export async function showPromoCodes(ctx: Context, deps: BotDeps): Promise<void> {
  const m = textsFor(ctx);
  if (!deps.api.hasAdminToken()) return show(ctx, m.admin.notConfigured);
  const codes = await deps.api.admin.promoCodes();
  if (codes.length === 0) return show(ctx, m.growth.adminNoCodes);
  const lines = codes.slice(0, SHOWN).map((c) => line(c, m));
  await show(ctx, [m.growth.adminCodesTitle(codes.length), ...lines].join('\n\n'));
}

export function registerAdminPromo(bot: Telegraf, deps: BotDeps): void {
  bot.command('codes', async (ctx) => {
    if (!isAdmin(ctx, deps)) return; // like /admin: nothing for others
    await showPromoCodes(ctx, deps);
  });
}
