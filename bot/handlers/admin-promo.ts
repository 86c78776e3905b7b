import type { Context, Telegraf } from 'telegraf';
import { ApiRequestError, type NewPromoCode, type PromoCodeStats } from '../api-client';
import { type BotDeps, show, textsFor } from '../ui';
import { isAdmin } from './admin';

/**
 * /codes for admins: every promo code with its stats (activations, users, revenue), read with ADMIN_READ_TOKEN.
 * /newcode creates one (ADMIN_BOT_TOKEN, audited as the admin).
 */

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

const KINDS = ['percent', 'amount', 'days'] as const;

/** `/newcode CODE percent|amount|days VALUE [MAX_USES] [UNTIL YYYY-MM-DD]` → the admin API's body, or null. */
export function parseNewCode(args: string): NewPromoCode | null {
  const [code, kind, value, ...rest] = args.trim().split(/\s+/);
  if (!code || !KINDS.includes(kind as NewPromoCode['kind']) || !/^\d+(\.\d{1,2})?$/.test(value ?? ''))
    return null;
  const body: NewPromoCode = { code, kind: kind as NewPromoCode['kind'], value: Number(value) };
  for (const arg of rest) {
    if (/^\d+$/.test(arg) && body.max_uses === undefined) body.max_uses = Number(arg);
    // Valid through the whole day named (UTC).
    else if (/^\d{4}-\d{2}-\d{2}$/.test(arg) && body.valid_until === undefined)
      body.valid_until = `${arg}T23:59:59Z`;
    else return null;
  }
  return body;
}

/** Why the API refused: its error code and, for a bad field, the field and message it names. */
function refusal(err: ApiRequestError): string {
  const b = (err.body ?? {}) as { error?: string; field?: string; message?: string };
  return [b.error ?? `HTTP ${err.status}`, b.field, b.message].filter(Boolean).join(': ');
}

/** /newcode for admins: creates a code through the admin API as the admin who sent it (audited tg:<admin>). */
export async function createPromoCode(ctx: Context, deps: BotDeps, args: string): Promise<void> {
  const m = textsFor(ctx);
  const from = ctx.from;
  if (!from) return;
  if (!deps.api.hasAdminBotToken()) return show(ctx, m.admin.notConfigured);
  const body = parseNewCode(args);
  if (!body) return show(ctx, m.growth.adminNewCodeUsage);
  try {
    const created = await deps.api.admin.createPromoCode(from.id, body);
    await show(ctx, m.growth.adminCodeCreated(line(created, m)));
  } catch (err) {
    if (!(err instanceof ApiRequestError) || err.status >= 500) throw err;
    await show(ctx, m.growth.adminCodeRefused(refusal(err)));
  }
}

export function registerAdminPromo(bot: Telegraf, deps: BotDeps): void {
  bot.command('newcode', async (ctx) => {
    if (!isAdmin(ctx, deps)) return; // like /admin: nothing for others
    await createPromoCode(ctx, deps, ctx.payload ?? '');
  });
  bot.command('codes', async (ctx) => {
    if (!isAdmin(ctx, deps)) return; // like /admin: nothing for others
    await showPromoCodes(ctx, deps);
  });
}
