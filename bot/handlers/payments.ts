import type { Context, Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import type { Messages } from '../../infra/i18n';
import { ApiRequestError, ApiUnavailableError, type CreatedPayment, type Tariff } from '../api-client';
import { purchaseRefusalText } from '../api-refusals';
import { type BotDeps, cb, link, show, textsFor } from '../ui';

/** Shows a fresh pending payment: a URL button to YooKassa's page, or a Telegram Stars invoice. */
export async function presentPayment(
  ctx: Context,
  payment: CreatedPayment,
  kind: 'card' | 'stars',
  tariff?: Tariff,
  /** A Stars invoice that buys no tariff (a balance top-up) says what it buys here. */
  invoice?: { title: string; description: string; label: string },
): Promise<void> {
  const m = textsFor(ctx);
  // A Stars subscription (auto-renew by Stars): Telegram's invoice link, paid in Telegram, renewed every 30 days.
  if (kind === 'stars' && payment.confirmation_url) {
    const stars = Number(payment.amount);
    await show(ctx, m.starsSubscription.invoice(stars), [
      [link(m.starsSubscription.payButton(stars), payment.confirmation_url)],
      [cb(m.buttons.menu, { type: 'menu' })],
    ]);
    return;
  }
  if (kind === 'stars') {
    const stars = payment.currency === 'XTR' ? Number(payment.amount) : (tariff?.star_price ?? Number.NaN);
    if (!Number.isInteger(stars) || stars <= 0)
      throw new Error(`no Stars price for payment ${payment.payment_id}`);
    const name = tariff?.name ?? 'VPN';
    await ctx.replyWithInvoice({
      title: invoice?.title ?? m.tariffs.invoiceTitle({ name }),
      description:
        invoice?.description ??
        (tariff
          ? m.tariffs.invoiceDescription({ ...tariff, durationDays: tariff.duration_days })
          : m.tariffs.invoiceGenericDescription),
      payload: payment.payment_id, // comes back in pre_checkout_query and successful_payment
      // Set, so a forwarded copy shows a link to the bot instead of a Pay button for someone else's invoice.
      start_parameter: 'invoice',
      provider_token: '',
      currency: 'XTR',
      prices: [{ label: invoice?.label ?? m.tariffs.invoiceLabel({ name }), amount: stars }],
    });
    return;
  }
  if (!payment.confirmation_url) throw new Error(`payment ${payment.payment_id} has no confirmation_url`);
  await show(
    ctx,
    m.tariffs.paymentCreated({
      amount: payment.amount,
      currency: payment.currency,
      expiresAt: payment.expires_at,
    }),
    [[link(m.buttons.goToPayment, payment.confirmation_url)], [cb(m.buttons.menu, { type: 'menu' })]],
  );
}

/** The Retry button of a failed-payment notification: a new pending payment for the same tariff. */
export async function retryPayment(ctx: Context, deps: BotDeps, paymentId: string): Promise<void> {
  try {
    const payment = await deps.api.retryPayment(paymentId);
    const kind = payment.currency === 'XTR' || !payment.confirmation_url ? 'stars' : 'card';
    await presentPayment(ctx, payment, kind);
  } catch (err) {
    const m = textsFor(ctx);
    const refusal = purchaseRefusalText(err, m);
    if (refusal !== null) return show(ctx, refusal, [[cb(m.buttons.tariffs, { type: 'tariffs' })]]);
    if (!(err instanceof ApiRequestError && (err.status === 404 || err.status === 409 || err.status === 422)))
      throw err;
    await show(ctx, m.errors.notFound, [[cb(m.buttons.tariffs, { type: 'tariffs' })]]);
  }
}

/**
 * An invoice this close to its deadline is refused: the charge could land after the purchase stopped waiting.
 * A quarter of the payment window when that is shorter (short PAYMENT_TIMEOUTs in trials and tests).
 */
export const PRE_CHECKOUT_MARGIN_MS = 2 * 60_000;
const marginFor = (createdAt: number, deadline: number) =>
  Math.min(
    PRE_CHECKOUT_MARGIN_MS,
    Number.isFinite(createdAt) ? (deadline - createdAt) / 4 : PRE_CHECKOUT_MARGIN_MS,
  );

async function preCheckoutVerdict(
  deps: BotDeps,
  m: Messages,
  q: { invoice_payload: string; total_amount: number; currency: string; from: { id: number } },
) {
  try {
    const payment = await deps.api.getPayment(q.invoice_payload, 5000);
    if (payment?.payment_status !== 'pending') return m.payments.preCheckoutNotPending;
    if (payment.telegram_id != null && payment.telegram_id !== q.from.id)
      return m.payments.preCheckoutOtherUser;
    if (payment.expires_at) {
      const deadline = Date.parse(payment.expires_at);
      const createdAt = typeof payment.created_at === 'string' ? Date.parse(payment.created_at) : Number.NaN;
      if (!(deadline - Date.now() > marginFor(createdAt, deadline))) return m.payments.preCheckoutNotPending;
    }
    const amountDiffers =
      payment.currency === 'XTR' && payment.amount != null && Number(payment.amount) !== q.total_amount;
    if (q.currency !== 'XTR' || amountDiffers) return m.payments.preCheckoutAmountMismatch;
    return null;
  } catch (err) {
    deps.logger.warn({ err, paymentId: q.invoice_payload }, 'pre_checkout check failed');
    return m.payments.preCheckoutUnavailable;
  }
}

/** successful_payment's Stars-subscription fields. */
interface RecurringPayment {
  is_recurring?: boolean;
  is_first_recurring?: boolean;
  subscription_expiration_date?: number;
}
const recurringFields = (p: RecurringPayment) => ({
  ...(p.is_recurring ? { is_recurring: true } : {}),
  ...(p.is_first_recurring ? { is_first_recurring: true } : {}),
  ...(p.subscription_expiration_date ? { subscription_expiration_date: p.subscription_expiration_date } : {}),
});

// Stars are already charged when successful_payment arrives, so confirmation is retried before giving up.
const CONFIRM_DELAYS_MS = [0, 1000, 3000, 7000];

export function registerPayments(bot: Telegraf, deps: BotDeps): void {
  // Telegram cancels the payment unless this is answered within 10 s: the API check has a 5 s budget.
  bot.on('pre_checkout_query', async (ctx) => {
    const verdict = await preCheckoutVerdict(deps, textsFor(ctx), ctx.preCheckoutQuery);
    await ctx.answerPreCheckoutQuery(verdict === null, verdict ?? undefined);
  });

  bot.on(message('successful_payment'), async (ctx) => {
    const p = ctx.message.successful_payment;
    const input = {
      telegram_id: ctx.from.id,
      payload: p.invoice_payload,
      telegram_payment_charge_id: p.telegram_payment_charge_id,
      total_amount: p.total_amount,
      // A Stars subscription's payments (Bot API 7.9+; telegraf's types predate them): forwarded as sent.
      ...recurringFields(p as RecurringPayment),
    };
    deps.logger.info(
      { paymentId: input.payload, chargeId: input.telegram_payment_charge_id },
      'stars payment received',
    );
    const m = textsFor(ctx);
    for (const [attempt, delay] of CONFIRM_DELAYS_MS.entries()) {
      await new Promise((r) => setTimeout(r, delay));
      try {
        const answer = await deps.api.confirmStarsPayment(input);
        await ctx.reply(
          answer?.status === 'refunding' ? m.payments.starsRefunding : m.payments.starsReceived,
        );
        return;
      } catch (err) {
        const retryable = err instanceof ApiUnavailableError && attempt < CONFIRM_DELAYS_MS.length - 1;
        if (retryable) continue;
        // Money is taken but not booked: loud log with everything needed to reconcile or refund by hand.
        deps.logger.error({ err, ...input }, 'stars payment NOT confirmed by the API');
        break;
      }
    }
    await ctx.reply(m.payments.starsConfirmDelayed, {
      reply_markup: { inline_keyboard: [[link(m.buttons.support, deps.supportUrl)]] },
    });
  });
}
