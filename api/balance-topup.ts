import type { Response } from 'express';
import { z } from 'zod';
import type { Row } from './db';
import type { ApiDeps } from './deps';
import { invalidField } from './errors';
import { requireProviderAvailable } from './provider-gate';
import { admitAndStart, requestHash, setRetryAfter } from './purchase-admission';
import type { PaymentCreated } from './purchases';

/** A top-up's 201 body: the payment, plus what the balance gets once it is paid. */
export type TopUpCreated = PaymentCreated & { credit_amount: string; credit_currency: string };

/** The balance currency: tariffs are sold in roubles, so the balance is kept in roubles too. */
export const BALANCE_CURRENCY = 'RUB';
/** One top-up is at least this much (a card payment below it costs more in fees than it brings). */
export const TOPUP_MIN = 10;
/** And at most this much: a balance is for a few renewals, not a wallet. */
export const TOPUP_MAX = 100_000;

/** payments/create fields of a top-up (purpose `topup`), checked once the body is otherwise valid. */
export const topUpFields = {
  purpose: z
    .enum(['subscription', 'topup', 'gift', 'traffic_pack', 'upgrade'])
    .optional()
    .describe('what the payment buys (default `subscription`); `topup` credits `amount` to the balance'),
  amount: z
    .string()
    .regex(/^\d{1,6}(\.\d{1,2})?$/, 'must be an amount like "500" or "500.00"')
    .or(z.number().positive().max(TOPUP_MAX))
    .transform((v) => Number(v).toFixed(2))
    .optional()
    .describe(`top-ups only: the amount in ${BALANCE_CURRENCY}, ${TOPUP_MIN}–${TOPUP_MAX}`),
};

/**
 * The tariff-shaped placeholder a top-up's workflow carries (it buys no tariff; payments.tariff_id stays null).
 * By Stars it carries the Stars price quoted for `amount`.
 */
const topUpTariff = (amount: string, stars: number | null): Row => ({
  id: null,
  slug: 'topup',
  name: 'Balance top-up',
  price: amount,
  currency: BALANCE_CURRENCY,
  duration_seconds: 0,
  star_price: stars,
  location: null,
});

/** The most Stars one top-up invoice asks for (Telegram caps a Stars price; 10 000 is its subscription cap). */
export const TOPUP_MAX_STARS = 10_000;

/** The Stars a top-up of `amount` roubles costs at `rate` roubles per Star: rounded up, never less than asked. */
export function starsForTopUp(amount: string, rate: number): number {
  return Math.ceil(Math.round(Number(amount) * 100) / Math.round(rate * 100) - 1e-9);
}

/**
 * A top-up whose success credits `amount` to the balance, through the same purchase workflow (purpose
 * `topup`): by card, or by Telegram Stars when TOPUP_STAR_RATE is set (the Stars price is quoted now, rounded
 * up, and the payment row keeps the roubles it credits).
 */
export async function startTopUp(
  deps: ApiDeps,
  res: Response,
  args: {
    user: Row;
    amount?: string;
    provider: string;
    idempotencyKey?: string;
    body: Record<string, unknown>;
  },
): Promise<TopUpCreated> {
  const rate = deps.config.TOPUP_STAR_RATE;
  if (args.provider === 'stars' && !(rate > 0))
    throw invalidField('provider', 'top-ups by Stars are off here: top up by card ("yookassa")');
  if (args.provider !== 'yookassa' && args.provider !== 'stars')
    throw invalidField('provider', 'a top-up is paid by card ("yookassa") or by Telegram Stars ("stars")');
  const amount = Number(args.amount);
  if (!args.amount || !(amount >= TOPUP_MIN && amount <= TOPUP_MAX))
    throw invalidField(
      'amount',
      `a top-up needs an amount from ${TOPUP_MIN} to ${TOPUP_MAX} ${BALANCE_CURRENCY}`,
    );
  const provider = args.provider;
  const stars = provider === 'stars' ? starsForTopUp(args.amount, rate) : null;
  if (stars !== null && stars > TOPUP_MAX_STARS)
    throw invalidField(
      'amount',
      `a top-up by Stars is at most ${TOPUP_MAX_STARS} Stars (${Math.floor(TOPUP_MAX_STARS * rate)} ${BALANCE_CURRENCY} here)`,
    );
  const { body } = await admitAndStart(deps, {
    user: args.user,
    tariff: topUpTariff(args.amount, stars),
    provider,
    purpose: 'topup',
    amount: args.amount,
    idempotencyKey: args.idempotencyKey,
    requestHash: args.idempotencyKey ? requestHash(args.body) : undefined,
    reuseOpen: false,
    beforeStart: () => requireProviderAvailable(deps, provider),
  }).catch((err) => {
    setRetryAfter(res, err);
    throw err;
  });
  return { ...body, credit_amount: args.amount, credit_currency: BALANCE_CURRENCY };
}
