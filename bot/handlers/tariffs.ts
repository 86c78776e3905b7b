import type { Context } from 'telegraf';
import { langFor } from '../../infra/i18n';
import { formatBytes, quotaTexts } from '../../infra/i18n/quota';
import { ApiRequestError, type Tariff } from '../api-client';
import { purchaseRefusalText } from '../api-refusals';
import { type BotDeps, cb, show, textsFor } from '../ui';
import { growthRefusalText } from './growth';
import { presentPayment } from './payments';

/** Tariffs → a tariff → a payment method → the payment page or a Stars invoice (3 taps from the menu). */

const tariffText = (t: Tariff) => ({
  name: t.name,
  durationDays: t.duration_days,
  price: t.price,
  currency: t.currency,
});

/** "➕ Pack 10 GB: +10 GB this period — 99 RUB" (payments/create sells it as purpose traffic_pack). */
function packText(ctx: Context, t: Tariff): string {
  const { m, lang } = quotaTexts(langFor(ctx.from?.language_code));
  return m.pack({
    name: t.name,
    size: formatBytes(t.traffic_pack_bytes ?? 0, lang),
    price: String(t.price),
    currency: t.currency,
  });
}

export async function showTariffs(
  ctx: Context,
  deps: BotDeps,
  opts: { renew?: boolean } = {},
): Promise<void> {
  const m = textsFor(ctx);
  const tariffs = await deps.api.listTariffs(ctx.from?.id);
  const back = [cb(m.buttons.menu, { type: 'menu' })];
  if (tariffs.length === 0) return show(ctx, m.tariffs.empty, [back]);
  // Plans first; traffic packs (they add bytes to a running access) below them, named as such.
  const plans = tariffs.filter((t) => t.kind !== 'traffic_pack');
  const packs = tariffs.filter((t) => t.kind === 'traffic_pack');
  const rows = [
    ...plans.map((t) => [cb(m.buttons.tariff(tariffText(t)), { type: 'tariff', tariffId: t.id })]),
    ...packs.map((t) => [cb(packText(ctx, t), { type: 'tariff', tariffId: t.id })]),
  ];
  const promo = [cb(m.growth.promoButton, { type: 'promo' })];
  await show(ctx, opts.renew ? m.tariffs.renewTitle : m.tariffs.title, [...rows, promo, back]);
}

async function findTariff(ctx: Context, deps: BotDeps, tariffId: string): Promise<Tariff | undefined> {
  const tariff = (await deps.api.listTariffs()).find((t) => t.id === tariffId);
  if (!tariff) {
    const m = textsFor(ctx);
    await show(ctx, m.errors.notFound, [[cb(m.buttons.tariffs, { type: 'tariffs' })]]);
  }
  return tariff;
}

export async function showTariff(
  ctx: Context,
  deps: BotDeps,
  tariffId: string,
  promo?: string,
): Promise<void> {
  const tariff = await findTariff(ctx, deps, tariffId);
  if (!tariff) return;
  const m = textsFor(ctx);
  const isPack = tariff.kind === 'traffic_pack';
  const rows = [[cb(m.buttons.payCard, { type: 'pay', method: 'card', tariffId, promo })]];
  if (tariff.star_price)
    rows.push([cb(m.buttons.payStars(tariff.star_price), { type: 'pay', method: 'stars', tariffId, promo })]);
  if (!promo && !isPack) rows.push([cb(m.autoRenew.withAutoRenew, { type: 'renewConsent', tariffId })]);
  // A pack adds to the buyer's own access: it cannot be gifted.
  if (!isPack) rows.push([cb(m.referralGift.giftButton, { type: 'gift', tariffId })]);
  rows.push([cb(m.buttons.back, { type: 'tariffs' })]);
  await show(ctx, isPack ? packText(ctx, tariff) : m.tariffs.chooseMethod(tariffText(tariff)), rows);
}

export async function pay(
  ctx: Context,
  deps: BotDeps,
  tariffId: string,
  method: 'card' | 'stars',
  promo?: string,
  purpose: 'subscription' | 'gift' = 'subscription',
  savePaymentMethod = false,
): Promise<void> {
  const from = ctx.from;
  if (!from) return;
  const tariff = await findTariff(ctx, deps, tariffId);
  if (!tariff) return;
  const m = textsFor(ctx);
  const input = {
    telegram_id: from.id,
    tariff_id: tariff.id,
    provider: method === 'card' ? 'yookassa' : 'stars',
    ...(promo ? { promo_code: promo } : {}),
    // A gift: the buyer gets a link to forward once paid (the worker sends it).
    ...(purpose === 'gift' ? { purpose } : {}),
    // Auto-renew consent, given on the consent screen (bot/handlers/auto-renew.ts).
    // By Stars the consent makes the invoice a Telegram Stars subscription (30-day tariffs).
    ...(savePaymentMethod ? { save_payment_method: true as const } : {}),
  } as const;
  // One key per tap: Telegram redelivers a tap with the same callback query id, and the API then answers
  // with the payment the first delivery created rather than starting a second purchase.
  const idempotencyKey = ctx.callbackQuery ? `tg-tap-${ctx.callbackQuery.id}` : undefined;
  try {
    let payment: Awaited<ReturnType<typeof deps.api.createPayment>>;
    try {
      payment = await deps.api.createPayment(input, idempotencyKey);
    } catch (err) {
      // A user the API forgot (e.g. a fresh database) is registered again instead of being stuck.
      if (!(err instanceof ApiRequestError && err.status === 404)) throw err;
      await deps.api.registerUser({
        telegram_id: from.id,
        username: from.username,
        first_name: from.first_name,
        language_code: from.language_code,
      });
      payment = await deps.api.createPayment(input, idempotencyKey);
    }
    // A 100 % promo code: nothing to pay, the key follows by message.
    if (payment.payment_status === 'succeeded') return show(ctx, m.growth.promoFree);
    await presentPayment(ctx, payment, method, tariff);
  } catch (err) {
    const refusal = growthRefusalText(err, ctx) ?? purchaseRefusalText(err, m);
    if (refusal === null) throw err;
    deps.logger.info({ telegramId: from.id, err: (err as Error).message }, 'purchase refused by the API');
    return show(ctx, refusal, [[cb(m.buttons.back, { type: 'tariff', tariffId })]]);
  }
}
