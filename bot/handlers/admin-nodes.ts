import type { Context } from 'telegraf';
import { escapeHtml } from '../../infra/i18n';
import type { AdminNodeOp } from '../../infra/telegram/callbacks';
import { ApiRequestError, type NodeCard } from '../api-client';
import { type BotDeps, cb, type Rows, show, textsFor } from '../ui';
import { refusalOf } from './admin-user';

/**
 * The admin's fleet screens (issue 12/16): the node list, a node card with Enable / Disable, and Drain
 * (asked once more) whose progress — moved / remaining / failed / state — the card shows, with Refresh.
 * Writes go through the admin API as the tapping admin (ADMIN_BOT_TOKEN, audited tg:<admin>).
 */

const LISTED = 40; // Telegram allows 100 buttons; a fleet bigger than this is paged by the API, not here

const op = (o: AdminNodeOp, nodeId?: string) =>
  ({ type: 'adminNode', op: o, ...(nodeId ? { nodeId } : {}) }) as const;

export async function showNodes(ctx: Context, deps: BotDeps): Promise<void> {
  const m = textsFor(ctx);
  const nodes = (await deps.api.admin.nodes()).slice(0, LISTED) as Array<Record<string, unknown>>;
  const line = (n: Record<string, unknown>) =>
    m.adminOps.nodeLine({
      name: escapeHtml(String(n.name)),
      location: escapeHtml(String(n.location)),
      status: escapeHtml(String(n.status)),
      active: Number(n.active_subscriptions ?? 0),
      capacity: Number(n.capacity ?? 0),
    });
  const rows: Rows = [
    ...nodes.map((n) => [
      cb(
        `${String(n.name)} · ${String(n.status)} · ${Number(n.active_subscriptions ?? 0)}/${Number(n.capacity ?? 0)}`,
        op('card', String(n.id)),
      ),
    ]),
    [cb(m.admin.title, { type: 'admin', view: 'menu' })],
  ];
  const body = nodes.length ? nodes.map(line).join('\n') : m.admin.nodesEmpty;
  await show(ctx, `${m.adminOps.nodesTitle(nodes.length)}\n${body}`, rows);
}

function cardText(ctx: Context, n: NodeCard): string {
  const m = textsFor(ctx).adminOps;
  const card = m.nodeCard({
    name: escapeHtml(n.name),
    location: escapeHtml(n.location),
    status: escapeHtml(n.status),
    active: n.active_subscriptions,
    capacity: n.capacity,
    clients: n.client_count,
    lastError: n.last_error ? escapeHtml(n.last_error.slice(0, 300)) : null,
    asOf: new Date().toISOString().slice(11, 19), // a Refresh always changes the screen
  });
  const d = n.drain;
  return d
    ? card +
        m.drainLine({ state: escapeHtml(d.state), moved: d.moved, remaining: d.remaining, failed: d.failed })
    : card;
}

async function showCard(ctx: Context, deps: BotDeps, nodeId: string, notice?: string): Promise<void> {
  const m = textsFor(ctx).adminOps;
  const node = await deps.api.admin.node(nodeId);
  if (!node) return show(ctx, m.nodeNotFound, [[cb(m.nodes, op('list'))]]);
  const writable = deps.api.hasAdminBotToken();
  const draining = node.drain?.state === 'running';
  const rows: Rows = [
    [cb(m.refresh, op('card', nodeId))],
    ...(writable
      ? [
          [
            node.status === 'disabled'
              ? cb(m.enable, op('enable', nodeId))
              : cb(m.disable, op('disable', nodeId)),
            ...(draining || (node.status === 'disabled' && node.active_subscriptions === 0)
              ? []
              : [cb(m.drain, op('drain', nodeId))]),
          ],
        ]
      : []),
    [cb(m.nodes, op('list'))],
  ];
  const text = cardText(ctx, node);
  await show(ctx, notice ? `${notice}\n\n${text}` : text, rows);
}

/** A tap on a node screen. The caller has checked that the tapping user is in ADMIN_TELEGRAM_IDS. */
export async function onAdminNode(
  ctx: Context,
  deps: BotDeps,
  o: AdminNodeOp,
  nodeId: string | undefined,
): Promise<void> {
  const m = textsFor(ctx).adminOps;
  const admin = ctx.from?.id;
  if (admin === undefined) return;
  if (!deps.api.hasAdminToken()) return show(ctx, textsFor(ctx).admin.notConfigured);
  if (o === 'list' || !nodeId) return showNodes(ctx, deps);
  if (o === 'card') return showCard(ctx, deps, nodeId);
  if (!deps.api.hasAdminBotToken()) return showCard(ctx, deps, nodeId);
  if (o === 'drain') {
    const node = await deps.api.admin.node(nodeId);
    if (!node) return show(ctx, m.nodeNotFound, [[cb(m.nodes, op('list'))]]);
    return show(ctx, m.confirmDrain(escapeHtml(node.name), node.active_subscriptions), [
      [cb(m.yesDrain, op('drain_yes', nodeId))],
      [cb(m.back, op('card', nodeId))],
    ]);
  }
  const verb = o === 'drain_yes' ? 'drain' : o;
  let notice: string;
  try {
    await deps.api.admin.actOnNode(admin, nodeId, verb);
    notice = m.done(verb);
  } catch (err) {
    if (!(err instanceof ApiRequestError)) throw err;
    notice = m.refused(refusalOf(err));
  }
  await showCard(ctx, deps, nodeId, notice);
}
