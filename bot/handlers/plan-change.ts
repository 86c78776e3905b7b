import type { Context } from 'telegraf';
import { ApiRequestError } from '../api-client';
import { purchaseRefusalText } from '../api-refusals';
import { type BotDeps, cb, link, type Rows, show, textsFor } from '../ui';

// "Change plan" under My subscription (issue 13): the plans with the credit already taken off, and a tap on one
// makes the change (POST /subscriptions/{telegram_id}/change): pay the difference, nothing (the credit covers
// it), or a downgrade scheduled for the next renewal.

const backRows = (m: ReturnType<typeof textsFor>): Rows => [
  [cb(m.buttons.mySubscription, { type: 'subscription' })],
  [cb(m.buttons.menu, { type: 'menu' })],
];

/** The list: the credit, a pending change if any, one button per plan with what it costs now. */
export async function showPlanChange(ctx: Context, deps: BotDeps): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const m = textsFor(ctx);
  const quote = await deps.api.changeQuote(from.id);
  if (!quote) return show(ctx, m.planChange.refusal('no_active_subscription') ?? '', backRows(m));
  let text = m.planChange.list({
    credit: quote.credit,
    currency: quote.currency,
    endDate: quote.end_date ?? null,
  });
  if (quote.pending)
    text += m.planChange.pending({
      kind: quote.pending.kind,
      tariffName: quote.pending.tariff_name,
      effectiveAt: quote.pending.effective_at ?? null,
    });
  if (quote.options.length === 0) text += `\n\n${m.planChange.none}`;
  const rows: Rows = quote.options.map((o) => [
    cb(m.planChange.option({ ...o, currency: quote.currency }), {
      type: 'changeTo',
      tariffId: String(o.tariff_id),
    }),
  ]);
  // A scheduled downgrade can be called off by choosing the current plan again.
  if (quote.pending?.kind === 'downgrade')
    rows.push([
      cb(m.planChange.keep(quote.tariff_name), { type: 'changeTo', tariffId: String(quote.tariff_id) }),
    ]);
  await show(ctx, text, [...rows, ...backRows(m)]);
}

/** A tap on a plan: the change, and what it means for the user now. */
export async function changeTo(ctx: Context, deps: BotDeps, tariffId: string): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const m = textsFor(ctx);
  try {
    const r = await deps.api.changePlan(from.id, tariffId);
    const currency = r.currency;
    if (r.payment_id && r.payment_status !== 'succeeded') {
      if (!r.confirmation_url) throw new Error(`plan change payment ${r.payment_id} has no confirmation_url`);
      return show(ctx, m.planChange.pay({ amount: String(r.amount), credit: r.credit, currency }), [
        [link(m.buttons.goToPayment, r.confirmation_url)],
        ...backRows(m),
      ]);
    }
    const text =
      r.status === 'scheduled'
        ? m.planChange.scheduled({ effectiveAt: r.effective_at ?? null })
        : r.status === 'canceled'
          ? m.planChange.canceled
          : r.status === 'applied'
            ? m.planChange.applied({
                endDate: r.end_date ?? null,
                balanceCredited: r.balance_credited ?? '0.00',
                currency,
              })
            : m.planChange.applying;
    await show(ctx, text, backRows(m));
  } catch (err) {
    const refusal =
      purchaseRefusalText(err, m) ??
      (err instanceof ApiRequestError && (err.status === 404 || err.status === 409)
        ? m.planChange.refusal(String((err.body as { error?: string } | undefined)?.error ?? ''))
        : null);
    if (refusal === null) throw err;
    await show(ctx, refusal, backRows(m));
  }
}
