import type { Context } from 'telegraf';
import { ApiRequestError, ApiUnavailableError } from '../api-client';
import { type BotDeps, cb, type Rows, show, textsFor } from '../ui';

// Cancel in "My subscription" (issue 13): a confirm screen built from the API's preview (the refund it would
// make within REFUND_WINDOW, or "auto-renew stops, access runs to <date>"), then the cancel and its result.

const errorCode = (err: unknown) =>
  err instanceof ApiRequestError ? (err.body as { error?: string } | null)?.error : undefined;

const backRows = (m: ReturnType<typeof textsFor>): Rows => [
  [cb(m.buttons.mySubscription, { type: 'subscription' })],
  [cb(m.buttons.menu, { type: 'menu' })],
];

/** ✖️ Cancel subscription: what will happen, and a button that does it. */
export async function showCancel(ctx: Context, deps: BotDeps): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const m = textsFor(ctx).botMoney;
  const base = textsFor(ctx);
  const preview = await deps.api.cancelPreview(from.id);
  if (!preview) return show(ctx, m.noActiveToCancel, backRows(base));
  const keep = [cb(m.cancelKeep, { type: 'subscription' })];
  if (preview.refund_available)
    return show(
      ctx,
      m.cancelRefundPreview({
        amount: preview.refund_amount,
        currency: preview.currency,
        toBalance: preview.refund_to.length === 1 && preview.refund_to[0] === 'balance',
      }),
      [[cb(m.cancelYesRefund, { type: 'cancelDo', refund: true })], keep],
    );
  if (!preview.auto_renewal)
    return show(ctx, m.cancelNothingToStop({ endDate: preview.end_date }), backRows(base));
  await show(ctx, m.cancelStopPreview({ endDate: preview.end_date }), [
    [cb(m.cancelYesStop, { type: 'cancelDo', refund: false })],
    keep,
  ]);
}

/** The confirmed cancel. A second tap finds no active access (refund) or the same off switch (no refund). */
export async function doCancel(ctx: Context, deps: BotDeps, refund: boolean): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const base = textsFor(ctx);
  const m = base.botMoney;
  try {
    // The answer carries no currency: the preview's is the currency of the payments the refund comes from.
    const currency = (await deps.api.cancelPreview(from.id))?.currency ?? 'RUB';
    const done = await deps.api.cancelSubscription(from.id, refund);
    if (done.revoked)
      return show(ctx, m.canceledRefunded({ amount: done.refunded_amount, currency }), backRows(base));
    const status = await deps.api.subscriptionStatus(from.id);
    await show(ctx, m.canceledKept({ endDate: status?.end_date ?? null }), backRows(base));
  } catch (err) {
    const code = errorCode(err);
    if (code === 'no_active_subscription') return show(ctx, m.noActiveToCancel, backRows(base));
    if (code === 'refund_not_available')
      // The window closed between the preview and the tap: offer what is still possible.
      return show(ctx, m.cancelWindowPassed, [
        [cb(m.cancelYesStop, { type: 'cancelDo', refund: false })],
        [cb(m.cancelKeep, { type: 'subscription' })],
      ]);
    if (err instanceof ApiUnavailableError && err.status === 503)
      return show(ctx, m.cancelInProgress, backRows(base));
    throw err;
  }
}
