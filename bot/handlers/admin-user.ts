import type { Context } from 'telegraf';
import { escapeHtml } from '../../infra/i18n';
import type { AdminUserOp } from '../../infra/telegram/callbacks';
import { type AdminRecord, type AdminUserAction, ApiRequestError } from '../api-client';
import { type BotDeps, cb, show, textsFor } from '../ui';
import { renderFields } from './admin-render';

/**
 * The admin's user card: what /user finds, with buttons that act through the admin API as the admin who
 * tapped (ADMIN_BOT_TOKEN + X-Admin-Telegram-Id, so each action's audit row says tg:<admin id>).
 * Revoke and block ask once more before they run.
 */

const TIMELINE_LINES = 25;

/** What each button asks the API to do; `undefined` ops only show a screen. */
const ACTIONS: Partial<Record<AdminUserOp, { action: AdminUserAction; body?: object }>> = {
  extend7: { action: 'extend', body: { days: 7 } },
  extend30: { action: 'extend', body: { days: 30 } },
  resend: { action: 'resend-key' },
  revoke_yes: { action: 'revoke' },
  block_yes: { action: 'block', body: { revoke_access: true, reason: 'blocked from the bot' } },
  unblock: { action: 'unblock' },
};

function cardRows(ctx: Context, deps: BotDeps, tg: string) {
  const m = textsFor(ctx).adminUser;
  const op = (text: string, o: AdminUserOp) => cb(text, { type: 'adminUser', op: o, telegramId: tg });
  const back = [cb(textsFor(ctx).admin.title, { type: 'admin', view: 'menu' })];
  if (!deps.api.hasAdminBotToken()) return [[op(m.timeline, 'timeline')], back];
  return [
    [op(m.extend7, 'extend7'), op(m.extend30, 'extend30')],
    [op(m.resend, 'resend'), op(m.revoke, 'revoke')],
    [op(m.block, 'block'), op(m.unblock, 'unblock')],
    [op(m.timeline, 'timeline')],
    back,
  ];
}

function telegramIdOf(found: AdminRecord): string | undefined {
  const user = (found.user ?? found) as AdminRecord;
  const id = user.telegram_id;
  return id === undefined || id === null ? undefined : String(id);
}

/** The card: the user's fields (subscriptions and payments counted) and the action buttons. */
export async function showUserCard(
  ctx: Context,
  deps: BotDeps,
  query: string,
  notice?: string,
): Promise<void> {
  const m = textsFor(ctx);
  const found = await deps.api.admin.findUser(query);
  const tg = found && telegramIdOf(found);
  if (!found || !tg)
    return show(ctx, m.admin.userNotFound, [[cb(m.admin.title, { type: 'admin', view: 'menu' })]]);
  const lines = renderFields(found, m.admin.labels);
  const head = notice
    ? `${notice}\n\n`
    : deps.api.hasAdminBotToken()
      ? ''
      : `${m.adminUser.notConfigured}\n\n`;
  await show(ctx, head + lines.join('\n'), cardRows(ctx, deps, tg));
}

async function showTimeline(ctx: Context, deps: BotDeps, tg: string): Promise<void> {
  const m = textsFor(ctx).adminUser;
  const entries = await deps.api.admin.timeline(tg);
  const shown = entries.slice(-TIMELINE_LINES);
  const lines = shown.map(
    (e) => `• <code>${escapeHtml(e.at.slice(0, 16).replace('T', ' '))}</code> ${escapeHtml(e.summary)}`,
  );
  const more = entries.length > shown.length ? `… +${entries.length - shown.length}\n` : '';
  await show(ctx, `${m.timelineTitle(escapeHtml(tg))}\n${more}${lines.join('\n') || m.timelineEmpty}`, [
    [cb(m.back, { type: 'adminUser', op: 'card', telegramId: tg })],
  ]);
}

/** The API's refusal as the admin reads it: its error code and message (or the HTTP status). */
export function refusalOf(err: ApiRequestError): string {
  const body = err.body as { error?: string; message?: string } | undefined;
  return escapeHtml([body?.error, body?.message].filter(Boolean).join(': ') || `HTTP ${err.status}`);
}

/** A tap on the card. The caller has checked that the tapping user is in ADMIN_TELEGRAM_IDS. */
export async function onAdminUser(ctx: Context, deps: BotDeps, op: AdminUserOp, tg: string): Promise<void> {
  const m = textsFor(ctx).adminUser;
  if (!deps.api.hasAdminToken()) return show(ctx, textsFor(ctx).admin.notConfigured);
  if (op === 'card') return showUserCard(ctx, deps, tg);
  if (op === 'timeline') return showTimeline(ctx, deps, tg);
  const confirm = (text: string, yes: AdminUserOp) =>
    show(ctx, text, [
      [cb(m.yes, { type: 'adminUser', op: yes, telegramId: tg })],
      [cb(m.back, { type: 'adminUser', op: 'card', telegramId: tg })],
    ]);
  if (op === 'revoke') return confirm(m.confirmRevoke(escapeHtml(tg)), 'revoke_yes');
  if (op === 'block') return confirm(m.confirmBlock(escapeHtml(tg)), 'block_yes');
  const act = ACTIONS[op];
  if (!act || !deps.api.hasAdminBotToken() || ctx.from === undefined) return showUserCard(ctx, deps, tg);
  const label = `${act.action}${act.body && 'days' in act.body ? ` +${act.body.days}d` : ''}`;
  let notice: string;
  try {
    await deps.api.admin.actOnUser(ctx.from.id, tg, act.action, act.body);
    notice = m.done(label);
  } catch (err) {
    if (!(err instanceof ApiRequestError)) throw err; // API down: the bot's apology path
    notice = m.refused(label, refusalOf(err));
  }
  await showUserCard(ctx, deps, tg, notice);
}
