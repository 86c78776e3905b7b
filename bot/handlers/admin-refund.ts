import type { Context, Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import { escapeHtml } from '../../infra/i18n';
import type { RefundTo } from '../../infra/telegram/callbacks';
import { type AdminRecord, ApiRequestError } from '../api-client';
import { type BotDeps, cb, type Rows, show, textsFor } from '../ui';
import { isAdmin } from './admin';
import { showUserCard } from './admin-user';

/**
 * The admin's refund from the user card (issue 16): the user's refundable payments → one → where to (the
 * provider that took it, or the balance) → a typed reply "[amount] reason" → confirm → POST
 * /admin/payments/{id}/refund as the tapping admin (ADMIN_BOT_TOKEN + X-Admin-Telegram-Id: audited tg:<id>).
 *
 * No state is kept in the bot: the prompt carries a tag "refund <tg> <payment> <to>" that the reply quotes
 * back, and the confirm button carries payment, destination and amount; the reason is the confirm
 * message's last line, which the bot wrote itself.
 */

const cents = (v: unknown) => Math.round(Number(v) * 100);
const money = (c: number) => (c / 100).toFixed(2);
const TAG = /refund (\d{1,20}) ([0-9a-f-]{36}) (provider|balance)\s*$/;
const REASON_MARK = '\n📝 ';

interface RefundablePayment {
  id: string;
  provider: string;
  purpose: string;
  amount: string;
  refunded: string;
  leftCents: number;
  currency: string;
  at: string;
}

function refundable(found: AdminRecord | null): RefundablePayment[] {
  const payments = Array.isArray(found?.payments) ? (found.payments as AdminRecord[]) : [];
  return payments
    .filter((p) => p.status === 'succeeded' && p.provider !== 'free')
    .map((p) => ({
      id: String(p.payment_id),
      provider: String(p.provider),
      purpose: String(p.purpose ?? 'subscription'),
      amount: String(p.amount),
      refunded: String(p.refunded_amount ?? '0.00'),
      leftCents: cents(p.amount) - cents(p.refunded_amount ?? 0),
      currency: String(p.currency),
      at: String(p.paid_at ?? p.created_at),
    }))
    .filter((p) => p.leftCents > 0);
}

async function findPayment(deps: BotDeps, tg: string, paymentId: string) {
  return refundable(await deps.api.admin.findUser(tg)).find((p) => p.id === paymentId);
}

const toCard = (ctx: Context, tg: string): Rows => [
  [cb(textsFor(ctx).adminUser.back, { type: 'adminUser', op: 'card', telegramId: tg })],
];

/** 💸 Refund on the card: one button per payment with money left to refund. */
export async function showRefundable(ctx: Context, deps: BotDeps, tg: string): Promise<void> {
  const m = textsFor(ctx).botMoney;
  const list = refundable(await deps.api.admin.findUser(tg));
  if (list.length === 0) return show(ctx, m.refundNone, toCard(ctx, tg));
  const rows: Rows = list.slice(0, 10).map((p) => [
    cb(m.refundLine({ ...p, amount: money(p.leftCents) }), {
      type: 'refundPick',
      telegramId: tg,
      paymentId: p.id,
    }),
  ]);
  await show(ctx, m.refundListTitle(escapeHtml(tg)), [...rows, ...toCard(ctx, tg)]);
}

/** One payment: what was paid and refunded, and where the refund can go. */
export async function showRefundPayment(ctx: Context, deps: BotDeps, tg: string, paymentId: string) {
  const m = textsFor(ctx).botMoney;
  const p = await findPayment(deps, tg, paymentId);
  if (!p) return showRefundable(ctx, deps, tg);
  // The API's rules: a balance payment goes back to the balance; Stars and top-ups only to the provider.
  const to: RefundTo[] =
    p.provider === 'balance'
      ? ['balance']
      : p.provider === 'stars' || p.purpose === 'topup'
        ? ['provider']
        : ['provider', 'balance'];
  const rows: Rows = to.map((dest) => [
    cb(dest === 'balance' ? m.refundToBalance : m.refundToProvider, {
      type: 'refundTo',
      telegramId: tg,
      paymentId,
      to: dest,
    }),
  ]);
  await show(ctx, m.refundPayment({ ...p, paymentId, left: money(p.leftCents) }), [
    ...rows,
    [cb(m.refundButton, { type: 'adminUser', op: 'refund', telegramId: tg })],
    ...toCard(ctx, tg),
  ]);
}

/** The prompt: the admin replies with the reason, or an amount and the reason. */
export async function askRefundDetails(
  ctx: Context,
  deps: BotDeps,
  tg: string,
  paymentId: string,
  to: RefundTo,
): Promise<void> {
  const m = textsFor(ctx).botMoney;
  const p = await findPayment(deps, tg, paymentId);
  if (!p) return showRefundable(ctx, deps, tg);
  const text = m.refundAsk({
    left: money(p.leftCents),
    currency: p.currency,
    toBalance: to === 'balance',
    tag: `refund ${tg} ${paymentId} ${to}`,
  });
  await ctx.reply(text, {
    parse_mode: 'HTML',
    reply_markup: { force_reply: true, input_field_placeholder: 'duplicate charge' },
  });
}

/** "50 double charge" → partial 50.00; "double charge" → the whole amount left. */
export function parseRefundReply(text: string): { amount?: number; reason: string } {
  const match = /^(\d{1,7}(?:[.,]\d{1,2})?)(?:\s+|$)([\s\S]*)$/.exec(text.trim());
  if (!match) return { reason: text.trim() };
  return { amount: cents(match[1]?.replace(',', '.')), reason: (match[2] ?? '').trim() };
}

async function onReply(ctx: Context, deps: BotDeps, tagged: RegExpExecArray, text: string) {
  const m = textsFor(ctx).botMoney;
  const [, tg = '', paymentId = '', to] = tagged;
  const again = (why: string) => ctx.reply(m.refundBadInput(why));
  const p = await findPayment(deps, tg, paymentId);
  if (!p) return showRefundable(ctx, deps, tg);
  const typed = parseRefundReply(text);
  const amount = typed.amount ?? p.leftCents;
  if (!typed.reason || typed.reason.length > 500) return again(m.refundNeedReason);
  if (!(amount > 0 && amount <= p.leftCents)) return again(m.refundBadAmount(money(p.leftCents), p.currency));
  const dest = to === 'balance' ? 'balance' : 'provider';
  await show(
    ctx,
    m.refundConfirm({
      amount: money(amount),
      currency: p.currency,
      toBalance: dest === 'balance',
      paymentId,
      tg,
      reason: typed.reason,
    }),
    [
      [cb(m.refundYes, { type: 'refundYes', telegramId: tg, paymentId, to: dest, cents: amount })],
      ...toCard(ctx, tg),
    ],
  );
}

/** The confirmed refund; the API refuses excess (409) itself, under the payment's row lock. */
export async function confirmRefund(
  ctx: Context,
  deps: BotDeps,
  a: { telegramId: string; paymentId: string; to: RefundTo; cents: number },
): Promise<void> {
  const m = textsFor(ctx).botMoney;
  const shown = ctx.callbackQuery?.message;
  const text = shown && 'text' in shown ? shown.text : '';
  const at = text.lastIndexOf(REASON_MARK);
  const reason = at < 0 ? '' : text.slice(at + REASON_MARK.length).trim();
  if (!ctx.from || !reason || !deps.api.hasAdminBotToken()) return showUserCard(ctx, deps, a.telegramId);
  let notice: string;
  try {
    const r = await deps.api.admin.refundPayment(
      ctx.from.id,
      a.paymentId,
      { amount: money(a.cents), to: a.to, reason },
      // One refund per tap: a redelivered tap is answered with the refund the first one booked.
      ctx.callbackQuery ? `tg-tap-${ctx.callbackQuery.id}` : undefined,
    );
    notice = m.refundDone({
      amount: r.amount,
      currency: r.currency,
      toBalance: r.to === 'balance',
      pending: r.status !== 'succeeded',
      accessUntil: r.access_expires_at ?? null,
    });
  } catch (err) {
    if (!(err instanceof ApiRequestError)) throw err; // API down: the bot's apology path
    const body = err.body as { error?: string; message?: string } | undefined;
    notice = m.refundRefused(
      escapeHtml([body?.error, body?.message].filter(Boolean).join(': ') || `HTTP ${err.status}`),
    );
  }
  await showUserCard(ctx, deps, a.telegramId, notice);
}

/** Replies to the refund prompt, from admins only. Registered before the catch-all text handler. */
export function registerAdminRefund(bot: Telegraf, deps: BotDeps): void {
  bot.on(message('text'), async (ctx, next) => {
    const prompt = ctx.message.reply_to_message;
    const tagged = prompt && 'text' in prompt ? TAG.exec(prompt.text) : null;
    if (!tagged || !isAdmin(ctx, deps)) return next();
    return onReply(ctx, deps, tagged, ctx.message.text);
  });
}
