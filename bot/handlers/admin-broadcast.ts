import type { Context, Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import { escapeHtml } from '../../infra/i18n';
import type { AdminBroadcastOp } from '../../infra/telegram/callbacks';
import { ApiRequestError, type BroadcastProgressView } from '../api-client';
import { type BotDeps, cb, extra, type Rows, show, textsFor } from '../ui';
import { isAdmin } from './admin';
import {
  type Draft,
  draftsOf,
  parseAdminMessage,
  parseTelegramIds,
  type Segment,
} from './admin-broadcast-draft';
import { refusalOf } from './admin-user';

/**
 * The admin's broadcasts (issue 16): compose (message → audience → preview sent to the admin + the dry run's
 * recipient count → confirm), then a progress screen with Refresh / Pause / Resume / Cancel, and a list of
 * recent ones. Writes go through the admin API as the tapping admin (ADMIN_BOT_TOKEN, audited tg:<admin>).
 */

const LISTED = 8;
const EXPIRED_CHOICES = [7, 30, 90] as const;
const LANGUAGES = ['ru', 'en'] as const;
const ANY = '-';

const op = (o: AdminBroadcastOp, arg?: string) =>
  ({ type: 'adminBroadcast', op: o, ...(arg === undefined ? {} : { arg }) }) as const;

function audienceSummary(ctx: Context, a: Draft['audience']): string {
  const m = textsFor(ctx).adminOps;
  const parts = [
    a.segment === 'expired' ? m.expiredDays(a.expired_within_days ?? 30) : m.segments[a.segment],
  ];
  if (a.language) parts.push(`${m.anyLanguage} ${a.language}`);
  if (a.location) parts.push(`${m.anyLocation} ${a.location}`);
  if (a.telegram_ids) parts.push(m.idsSummary(a.telegram_ids.length));
  return escapeHtml(parts.join(' · '));
}

/** The next value of a cycling filter button: any → first → … → last → any. */
function nextOf(values: readonly string[], now: string | undefined): string {
  const i = now === undefined ? -1 : values.indexOf(now);
  return i + 1 >= values.length ? ANY : values[i + 1];
}

async function locationsOf(deps: BotDeps): Promise<string[]> {
  const nodes = await deps.api.admin.nodes();
  const names = nodes.map((n) => String(n.location ?? '')).filter((l) => /^[\w.-]{1,40}$/.test(l));
  return [...new Set(names)].sort();
}

async function showAudience(ctx: Context, deps: BotDeps, draft: Draft): Promise<void> {
  const m = textsFor(ctx).adminOps;
  const a = draft.audience;
  const mark = (on: boolean, label: string) => (on ? `• ${label}` : label);
  const seg = (s: Segment, label: string) => cb(mark(a.segment === s, label), op('seg', s));
  const rows: Rows = [
    [
      seg('all', m.segAll),
      seg('active', m.segActive),
      seg('trial', m.segTrial),
      seg('never_paid', m.segNeverPaid),
    ],
    EXPIRED_CHOICES.map((d) =>
      cb(
        mark(a.segment === 'expired' && (a.expired_within_days ?? 30) === d, m.segExpired(d)),
        op('seg', `expired-${d}`),
      ),
    ),
    [
      cb(m.language(a.language), op('lang', nextOf(LANGUAGES, a.language))),
      cb(m.location(a.location), op('loc', nextOf(await locationsOf(deps), a.location))),
    ],
    [
      cb(m.ids(a.telegram_ids?.length ?? 0), op('ids')),
      ...(a.telegram_ids ? [cb(m.clearIds, op('ids', 'clear'))] : []),
    ],
    [cb(m.preview, op('preview'))],
    [cb(m.drop, op('drop'))],
  ];
  const msg = draft.message;
  await show(
    ctx,
    m.audienceTitle(audienceSummary(ctx, a), msg?.buttons?.length ?? 0, Boolean(msg?.photo_url)),
    rows,
  );
}

/** The message exactly as recipients get it (the same HTML, picture and buttons), sent to the admin. */
async function sendPreview(ctx: Context, draft: Required<Pick<Draft, 'message'>>): Promise<void> {
  const { text, photo_url, buttons } = draft.message;
  const markup = buttons?.length ? { reply_markup: { inline_keyboard: buttons } } : {};
  const chatId = ctx.chat!.id;
  if (photo_url)
    await ctx.telegram.sendPhoto(chatId, photo_url, { caption: text, parse_mode: 'HTML', ...markup });
  else
    await ctx.telegram.sendMessage(chatId, text, {
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
      ...markup,
    });
}

const telegramRefusal = (err: unknown): string | undefined => {
  const e = err as { code?: number; description?: string };
  return e?.code === 400 ? escapeHtml(String(e.description ?? 'Bad Request')) : undefined;
};

async function preview(ctx: Context, deps: BotDeps, admin: number, draft: Draft): Promise<void> {
  const m = textsFor(ctx).adminOps;
  if (!draft.message) return askMessage(ctx, deps, admin);
  let recipients: number;
  try {
    recipients = await deps.api.admin.broadcastRecipients(admin, {
      ...draft.message,
      audience: draft.audience,
    });
  } catch (err) {
    if (!(err instanceof ApiRequestError)) throw err;
    return show(ctx, m.refused(refusalOf(err)), [[cb(m.changeAudience, op('seg', draft.audience.segment))]]);
  }
  try {
    await sendPreview(ctx, { message: draft.message });
  } catch (err) {
    const reason = telegramRefusal(err);
    if (reason === undefined) throw err;
    draft.awaiting = 'message'; // bad HTML: every recipient would get the same 400
    return void (await ctx.reply(m.previewFailed(reason), extra()));
  }
  const rows: Rows = [
    ...(recipients > 0 ? [[cb(m.send(recipients), op('send'))]] : []),
    [cb(m.changeAudience, op('seg', draft.audience.segment))],
    [cb(m.drop, op('drop'))],
  ];
  // A new message under the preview (not an edit of the audience screen), so it reads top to bottom.
  await ctx.reply(recipients > 0 ? m.confirm(recipients) : m.confirmNone, extra(rows));
}

export async function showProgress(
  ctx: Context,
  deps: BotDeps,
  broadcastId: string,
  notice?: string,
): Promise<void> {
  const m = textsFor(ctx).adminOps;
  let p: BroadcastProgressView;
  try {
    p = await deps.api.admin.broadcast(broadcastId);
  } catch (err) {
    if (!(err instanceof ApiRequestError)) throw err;
    return show(ctx, m.refused(refusalOf(err)), [[cb(m.back, op('list'))]]);
  }
  const live = p.state === 'running' || p.state === 'paused';
  const writable = deps.api.hasAdminBotToken();
  const rows: Rows = [
    [cb(m.refresh, op('show', broadcastId))],
    ...(live && writable
      ? [
          [
            p.state === 'running'
              ? cb(m.pause, op('pause', broadcastId))
              : cb(m.resume, op('resume', broadcastId)),
            cb(m.cancel, op('cancel', broadcastId)),
          ],
        ]
      : []),
    [cb(m.broadcasts, op('list'))],
  ];
  const body = m.progress({
    id: escapeHtml(broadcastId),
    state: m.states[p.state] ?? escapeHtml(p.state),
    total: p.total,
    sent: p.sent,
    failed: p.failed,
    blocked: p.blocked,
    pending: p.pending ?? Math.max(0, p.total - p.sent - p.failed - p.blocked),
    // A Refresh always changes the screen (Telegram refuses an edit to identical text), and says when.
    asOf: new Date().toISOString().slice(11, 19),
  });
  await show(ctx, notice ? `${notice}\n\n${body}` : body, rows);
}

export async function showBroadcasts(ctx: Context, deps: BotDeps): Promise<void> {
  const m = textsFor(ctx).adminOps;
  const list = await deps.api.admin.broadcasts(LISTED);
  const lines = list.map(
    (b) =>
      `• <code>${escapeHtml(b.created_at.slice(0, 16).replace('T', ' '))}</code> ${m.states[b.state] ?? escapeHtml(b.state)} · ` +
      `${b.sent}/${b.total} · ${escapeHtml(b.text.replace(/<[^>]*>/g, '').slice(0, 40))}`,
  );
  const rows: Rows = [
    ...(deps.api.hasAdminBotToken() ? [[cb(m.newBroadcast, op('new'))]] : []),
    ...list.map((b, i) => [
      cb(`${i + 1}. ${m.states[b.state] ?? b.state} ${b.sent}/${b.total}`, op('show', b.broadcast_id)),
    ]),
    [cb(textsFor(ctx).admin.title, { type: 'admin', view: 'menu' })],
  ];
  const numbered = lines.map((l, i) => l.replace('•', `${i + 1}.`));
  await show(ctx, `${m.broadcastsTitle(list.length)}\n${numbered.join('\n') || m.broadcastsEmpty}`, rows);
}

async function askMessage(ctx: Context, deps: BotDeps, admin: number): Promise<void> {
  const drafts = draftsOf(deps);
  const draft = drafts.get(admin) ?? { audience: { segment: 'all' } };
  draft.awaiting = 'message';
  drafts.set(admin, draft);
  await show(ctx, textsFor(ctx).adminOps.askMessage, [[cb(textsFor(ctx).adminOps.drop, op('drop'))]]);
}

function applySegment(draft: Draft, arg: string | undefined): void {
  const expired = /^expired-(\d{1,4})$/.exec(arg ?? '');
  const { expired_within_days: _, ...rest } = draft.audience;
  if (expired) draft.audience = { ...rest, segment: 'expired', expired_within_days: Number(expired[1]) };
  else if (arg === 'all' || arg === 'active' || arg === 'trial' || arg === 'never_paid')
    draft.audience = { ...rest, segment: arg };
}

function setFilter(draft: Draft, key: 'language' | 'location', arg: string | undefined): void {
  const { [key]: _, ...rest } = draft.audience;
  draft.audience = arg && arg !== ANY ? { ...rest, [key]: arg } : rest;
}

/** A tap on a broadcast screen. The caller has checked that the tapping user is in ADMIN_TELEGRAM_IDS. */
export async function onAdminBroadcast(
  ctx: Context,
  deps: BotDeps,
  o: AdminBroadcastOp,
  arg: string | undefined,
): Promise<void> {
  const m = textsFor(ctx).adminOps;
  const admin = ctx.from?.id;
  if (admin === undefined) return;
  if (!deps.api.hasAdminToken()) return show(ctx, textsFor(ctx).admin.notConfigured);
  if (o === 'list') return showBroadcasts(ctx, deps);
  if (o === 'show' && arg) return showProgress(ctx, deps, arg);
  if (!deps.api.hasAdminBotToken()) return show(ctx, textsFor(ctx).adminUser.notConfigured);
  if ((o === 'pause' || o === 'resume' || o === 'cancel_yes') && arg) {
    const verb = o === 'cancel_yes' ? 'cancel' : o;
    try {
      await deps.api.admin.controlBroadcast(admin, arg, verb);
      return showProgress(ctx, deps, arg, m.done(verb));
    } catch (err) {
      if (!(err instanceof ApiRequestError)) throw err;
      return showProgress(ctx, deps, arg, m.refused(refusalOf(err)));
    }
  }
  if (o === 'cancel' && arg)
    return show(ctx, m.confirmCancel, [
      [cb(m.yesCancel, op('cancel_yes', arg))],
      [cb(m.back, op('show', arg))],
    ]);
  if (o === 'new') {
    draftsOf(deps).delete(admin);
    return askMessage(ctx, deps, admin);
  }
  const drafts = draftsOf(deps);
  const draft = drafts.get(admin);
  if (o === 'drop') {
    drafts.delete(admin);
    return show(ctx, m.dropped, [[cb(m.broadcasts, op('list'))]]);
  }
  if (!draft?.message) return show(ctx, m.noDraft, [[cb(m.newBroadcast, op('new'))]]);
  draft.awaiting = undefined;
  if (o === 'seg') applySegment(draft, arg);
  if (o === 'lang') setFilter(draft, 'language', arg);
  if (o === 'loc') setFilter(draft, 'location', arg);
  if (o === 'ids') {
    if (arg === 'clear') {
      const { telegram_ids: _, ...rest } = draft.audience;
      draft.audience = rest;
    } else {
      draft.awaiting = 'ids';
      return show(ctx, m.askIds, [[cb(m.back, op('seg', draft.audience.segment))]]);
    }
  }
  if (o === 'preview') return preview(ctx, deps, admin, draft);
  if (o === 'send') return start(ctx, deps, admin, draft);
  return showAudience(ctx, deps, draft);
}

/** Confirmed: the draft is used up before the call, so a second tap on "Send" cannot start a second one. */
async function start(ctx: Context, deps: BotDeps, admin: number, draft: Draft): Promise<void> {
  const m = textsFor(ctx).adminOps;
  if (!draft.message) return;
  const drafts = draftsOf(deps);
  drafts.delete(admin);
  try {
    const started = await deps.api.admin.startBroadcast(admin, {
      ...draft.message,
      audience: draft.audience,
    });
    await showProgress(ctx, deps, started.broadcast_id);
  } catch (err) {
    if (!(err instanceof ApiRequestError)) throw err;
    drafts.set(admin, draft); // refused (nothing started): the admin may change it and try again
    await show(ctx, m.refused(refusalOf(err)), [[cb(m.changeAudience, op('seg', draft.audience.segment))]]);
  }
}

/** The admin's text while a draft waits for it: the broadcast message, or the pasted ids. */
async function onDraftText(ctx: Context, deps: BotDeps, admin: number, draft: Draft, text: string) {
  const m = textsFor(ctx).adminOps;
  if (draft.awaiting === 'ids') {
    const parsed = parseTelegramIds(text);
    if (!parsed.ok) return void (await ctx.reply(m.badIds(escapeHtml(parsed.bad)), extra()));
    draft.audience = { ...draft.audience, telegram_ids: parsed.ids };
  } else {
    const parsed = parseAdminMessage(
      text,
      ctx.message && 'entities' in ctx.message ? ctx.message.entities : undefined,
    );
    if (!parsed.ok) return void (await ctx.reply(m.badMessage(m.messageReasons[parsed.problem]), extra()));
    draft.message = parsed.message;
  }
  draft.awaiting = undefined;
  draftsOf(deps).set(admin, draft);
  await showAudience(ctx, deps, draft);
}

/** `/broadcast` and the draft's text input. Registered before the catch-all text handler. */
export function registerAdminBroadcast(bot: Telegraf, deps: BotDeps): void {
  bot.command('broadcast', async (ctx) => {
    if (!isAdmin(ctx, deps)) return; // like /admin: nothing for others
    await onAdminBroadcast(ctx, deps, 'new', undefined);
  });
  bot.on(message('text'), async (ctx, next) => {
    const draft = isAdmin(ctx, deps) ? draftsOf(deps).get(ctx.from.id) : undefined;
    if (!draft?.awaiting || ctx.message.text.startsWith('/')) return next();
    await onDraftText(ctx, deps, ctx.from.id, draft, ctx.message.text);
  });
}
