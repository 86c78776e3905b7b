import type { Context } from 'telegraf';
import { ApiRequestError, ApiUnavailableError, type Tariff } from '../api-client';
import { type BotDeps, cb, show, textsFor } from '../ui';
import { presentPayment } from './payments';

/** Tariffs → a tariff → a payment method → the payment page or a Stars invoice (3 taps from the menu). */

const tariffText = (t: Tariff) => ({
  name: t.name,
  durationDays: t.duration_days,
  price: t.price,
  currency: t.currency,
});

export async function showTariffs(
  ctx: Context,
  deps: BotDeps,
  opts: { renew?: boolean } = {},
): Promise<void> {
  const m = textsFor(ctx);
  const tariffs = await deps.api.listTariffs(ctx.from?.id);
  const back = [cb(m.buttons.menu, { type: 'menu' })];
  if (tariffs.length === 0) return show(ctx, m.tariffs.empty, [back]);
  const rows = tariffs.map((t) => [cb(m.buttons.tariff(tariffText(t)), { type: 'tariff', tariffId: t.id })]);
  await show(ctx, opts.renew ? m.tariffs.renewTitle : m.tariffs.title, [...rows, back]);
}

async function findTariff(ctx: Context, deps: BotDeps, tariffId: string): Promise<Tariff | undefined> {
  const tariff = (await deps.api.listTariffs()).find((t) => t.id === tariffId);
  if (!tariff) {
    const m = textsFor(ctx);
    await show(ctx, m.errors.notFound, [[cb(m.buttons.tariffs, { type: 'tariffs' })]]);
  }
  return tariff;
}

export async function showTariff(ctx: Context, deps: BotDeps, tariffId: string): Promise<void> {
  const tariff = await findTariff(ctx, deps, tariffId);
  if (!tariff) return;
  const m = textsFor(ctx);
  const rows = [[cb(m.buttons.payCard, { type: 'pay', method: 'card', tariffId })]];
  if (tariff.star_price)
    rows.push([cb(m.buttons.payStars(tariff.star_price), { type: 'pay', method: 'stars', tariffId })]);
  rows.push([cb(m.buttons.back, { type: 'tariffs' })]);
  await show(ctx, m.tariffs.chooseMethod(tariffText(tariff)), rows);
}

export async function pay(
  ctx: Context,
  deps: BotDeps,
  tariffId: string,
  method: 'card' | 'stars',
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
  } as const;
  try {
    let payment: Awaited<ReturnType<typeof deps.api.createPayment>>;
    try {
      payment = await deps.api.createPayment(input);
    } catch (err) {
      // A user the API forgot (e.g. a fresh database) is registered again instead of being stuck.
      if (!(err instanceof ApiRequestError && err.status === 404)) throw err;
      await deps.api.registerUser({
        telegram_id: from.id,
        username: from.username,
        first_name: from.first_name,
        language_code: from.language_code,
      });
      payment = await deps.api.createPayment(input);
    }
    await presentPayment(ctx, payment, method, tariff);
  } catch (err) {
    if (isLocationMismatch(err)) {
      return show(ctx, m.errors.locationMismatch, [[cb(m.buttons.back, { type: 'tariff', tariffId })]]);
    }
    if (err instanceof ApiUnavailableError && err.status === 503) {
      return show(ctx, m.errors.providerDown, [[cb(m.buttons.back, { type: 'tariff', tariffId })]]);
    }
    throw err;
  }
}

/** One access per user: the API refuses a tariff for another location while one runs (409 location_mismatch). */
const isLocationMismatch = (err: unknown) =>
  err instanceof ApiRequestError &&
  err.status === 409 &&
  (err.body as { error?: string } | null)?.error === 'location_mismatch';
