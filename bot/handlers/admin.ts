import type { Context, Telegraf } from 'telegraf';
import type { AdminView } from '../../infra/telegram/callbacks';
import { type BotDeps, cb, show, textsFor } from '../ui';
import { renderList, renderStats } from './admin-render';
import { showUserCard } from './admin-user';
import { showNodes } from './admin-nodes';

/** /admin for the ids in ADMIN_TELEGRAM_IDS: stats, stuck purchases, user lookup, nodes. Others get nothing. */

export const isAdmin = (ctx: Context, deps: BotDeps) =>
  ctx.from !== undefined && deps.adminIds.has(ctx.from.id);

// Purchases sitting in one stage longer than this are "stuck" (payment pages live up to PAYMENT_TIMEOUT, 1h).
const STUCK_AFTER = '15m';

function adminRows(ctx: Context) {
  const m = textsFor(ctx);
  return [
    [
      cb(m.admin.stats, { type: 'admin', view: 'stats' }),
      cb(m.admin.stuck, { type: 'admin', view: 'stuck' }),
    ],
    [
      cb(m.admin.nodes, { type: 'admin', view: 'nodes' }),
      cb(m.admin.findUser, { type: 'admin', view: 'find' }),
    ],
    [cb(m.adminOps.broadcasts, { type: 'adminBroadcast', op: 'list' })],
    [cb(m.buttons.menu, { type: 'menu' })],
  ];
}

export async function showAdmin(ctx: Context, deps: BotDeps, view: AdminView): Promise<void> {
  const m = textsFor(ctx);
  const rows = adminRows(ctx);
  if (view === 'menu') return show(ctx, m.admin.title, rows);
  if (view === 'find') return show(ctx, m.admin.findUserHint, rows);
  if (!deps.api.hasAdminToken()) return show(ctx, m.admin.notConfigured, rows);
  if (view === 'stats') {
    const stats = await deps.api.admin.stats();
    return show(ctx, `<b>${m.admin.stats}</b>\n${renderStats(stats, m.admin.labels).join('\n')}`, rows);
  }
  if (view === 'stuck') {
    const stuck = await deps.api.admin.stuckPurchases({ olderThan: STUCK_AFTER });
    return show(
      ctx,
      `<b>${m.admin.stuck}</b> (${stuck.length})\n${stuck.length ? renderList(stuck) : m.admin.stuckEmpty}`,
      rows,
    );
  }
  await showNodes(ctx, deps); // with a card per node: enable/disable, drain (bot/handlers/admin-nodes.ts)
}

export function registerAdmin(bot: Telegraf, deps: BotDeps): void {
  bot.command('admin', async (ctx) => {
    if (!isAdmin(ctx, deps)) return; // silently: the admin panel's existence is not advertised
    await showAdmin(ctx, deps, 'menu');
  });

  bot.command('user', async (ctx) => {
    if (!isAdmin(ctx, deps)) return;
    const m = textsFor(ctx);
    const query = ctx.payload.trim().replace(/^@/, '');
    if (!query) return show(ctx, m.admin.findUserHint, adminRows(ctx));
    if (!deps.api.hasAdminToken()) return show(ctx, m.admin.notConfigured, adminRows(ctx));
    await showUserCard(ctx, deps, query); // with the action buttons (bot/handlers/admin-user.ts)
  });
}
