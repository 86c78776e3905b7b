import type { PurchaseStage } from './purchase-messages';

// Temporal user metadata (issue 16): the static summary a workflow starts with and the current details it
// keeps up to date, so the Temporal UI's list reads like a queue of work. Pure text; no commands, so
// setting details never changes a workflow's history (replay-safe).

const who = (telegramId: string, username?: string | null) =>
  username ? `@${username} (${telegramId})` : `tg ${telegramId}`;

/** e.g. "199.00 RUB · month-1 · @ann (777001)"; Stars: "50 XTR · …"; top-ups and gifts say so. */
export function purchaseSummary(p: {
  amount: string;
  currency: string;
  tariffSlug: string;
  telegramId: string;
  username?: string | null;
  purpose?: string;
}): string {
  const what = p.purpose && p.purpose !== 'subscription' ? `${p.purpose} · ${p.tariffSlug}` : p.tariffSlug;
  return `${p.amount} ${p.currency} · ${what} · ${who(p.telegramId, p.username)}`;
}

/** e.g. "Access 3f2a… · tg 777001 · node 5". */
export function lifetimeSummary(l: {
  subscriptionId: string;
  telegramId: string;
  nodeId: string;
  username?: string | null;
}) {
  return `Access ${l.subscriptionId.slice(0, 8)} · ${who(l.telegramId, l.username)} · node ${l.nodeId}`;
}

const STAGE_WAITS: Partial<Record<PurchaseStage, string>> = {
  CREATING_PAYMENT: 'creating the payment at the provider',
  AWAITING_PAYMENT: 'waiting for the user to pay (webhook, poll or the payment deadline)',
  PROVISIONING: 'paid: putting the client on a node (waits for a node with room)',
  NOTIFYING: 'access granted: sending the key on the telegram queue',
  REFUNDING: 'refunding the payment at the provider',
  COMPLETED: 'done: access granted',
  REFUNDED: 'done: refunded',
  EXPIRED: 'done: the payment deadline passed unpaid',
  CANCELED: 'done: the payment was canceled',
  FAILED: 'done: the payment could not be created',
};

export function purchaseDetails(stage: PurchaseStage): string {
  return `${stage}: ${STAGE_WAITS[stage] ?? 'in progress'}`;
}

/** What a lifetime waits for next, e.g. "ACTIVE: waiting for the 24h reminder at …; access ends …". */
export function lifetimeDetails(stage: string, next: string, endsAt: number): string {
  return `${stage}: ${next}; access ends ${new Date(endsAt).toISOString()}`;
}

/** e.g. "Broadcast to 2000 (all) by tg:777001". */
export function broadcastSummary(b: { recipients: number; segment: string; by: string }): string {
  return `Broadcast to ${b.recipients} (${b.segment}) by ${b.by}`;
}

/** e.g. "running: sent 420, blocked 3, failed 0 of 2000 · sending the next page". */
export function broadcastDetails(
  state: string,
  c: { sent: number; blocked: number; failed: number },
  total: number,
  waiting: string,
): string {
  return `${state}: sent ${c.sent}, blocked ${c.blocked}, failed ${c.failed} of ${total} · ${waiting}`;
}

/** e.g. "Drain node 5 (nl) · asked by admin:ops" or "Drain node 5 (nl) · down too long". */
export function drainSummary(d: {
  nodeId: string;
  nodeName?: string | null;
  location?: string | null;
  reason: 'admin' | 'dead';
  by?: string;
}): string {
  const node = `node ${d.nodeId}${d.nodeName ? ` ${d.nodeName}` : ''}${d.location ? ` (${d.location})` : ''}`;
  const why =
    d.reason === 'dead' ? 'down too long (NODE_DEAD_MIGRATE_AFTER)' : `asked by ${d.by ?? 'an admin'}`;
  return `Drain ${node} · ${why}`;
}

/** e.g. "running: moved 40, failed 0, 60 left · moving the next 20 (one every 200 ms)". */
export function drainDetails(
  state: string,
  p: { moved: number; failed: number; remaining: number },
  waiting: string,
): string {
  return `${state}: moved ${p.moved}, failed ${p.failed}, ${p.remaining} left · ${waiting}`;
}
