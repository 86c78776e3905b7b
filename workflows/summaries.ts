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
