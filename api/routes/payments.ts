import { z } from 'zod';
import { sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { invalidField, notFound } from '../errors';
import { refuseOtherLocation } from '../location-check';
import { RETRY_AFTER } from '../openapi/document';
import { requireProviderAvailable } from '../provider-gate';
import { startTopUp, topUpFields } from '../balance-topup';
import { trafficPackPurchase } from '../traffic-pack';
import { priceWithPromo } from '../promo/pricing';
import { admitAndStart, requestHash, setRetryAfter } from '../purchase-admission';
import { retryPlanChange } from '../plan-change';
import { refuseStarsSubscription } from '../stars-subscription';
import { paymentCreated, requireActiveTariff, requireUser } from '../purchases';
import type { RouteTable } from '../route-table';
import { errorBody, tariffIdField, paymentIdParams, provider, telegramId } from '../schemas';

const createBody = z
  .object({
    telegram_id: telegramId,
    tariff_id: tariffIdField.optional(),
    tariff_slug: z.string().min(1).max(64).optional(),
    provider: provider.default('yookassa'),
    ...topUpFields,
    promo_code: z
      .string()
      .regex(/^[A-Za-z0-9_-]{3,32}$/, 'must be 3-32 letters, digits, "-" or "_"')
      .optional()
      .describe('a percent or amount promo code: the discounted price is what the provider is asked for'),
    save_payment_method: z
      .literal(true)
      .optional()
      .describe(
        'auto-renew consent (the bot shows the consent text first). Card: YooKassa keeps the card and the access renews itself from it. Stars: the invoice is a Telegram Stars subscription (30-day tariffs only; `confirmation_url` is its invoice link) that Telegram charges every 30 days. PUT /api/v1/subscriptions/{telegram_id}/auto-renew turns either off',
      ),
  })
  .superRefine((b, ctx) => {
    if (b.save_payment_method && b.provider !== 'yookassa' && b.provider !== 'stars')
      ctx.addIssue({
        code: 'custom',
        path: ['save_payment_method'],
        message: 'save_payment_method is for card ("yookassa") and Stars ("stars") payments only',
      });
    if (b.purpose === 'topup') return; // a top-up buys no tariff (checked in startTopUp)
    if (b.amount !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['amount'],
        message: 'amount is for top-ups (purpose "topup") only',
      });
    if (b.tariff_id === undefined && b.tariff_slug === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tariff_id'], message: 'tariff_id or tariff_slug is required' });
    }
  });

const createHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 printable ASCII characters without spaces')
    .optional()
    .describe(
      'one key per user action (e.g. a UUID per tap): a retry with the same key and body returns the same payment',
    ),
});

const limitDoc = {
  description:
    '`purchase_limit`: PURCHASE_OPEN_LIMIT open or PURCHASE_HOURLY_LIMIT hourly payments reached; or `rate_limited`. `Retry-After` says when to retry',
  schema: errorBody,
  headers: RETRY_AFTER,
};

const paymentView = z.object({
  payment_id: z.string().uuid(),
  telegram_id: z.number().int(),
  provider: z.enum(['yookassa', 'stars', 'balance', 'free']),
  payment_status: z.enum(['pending', 'succeeded', 'canceled', 'expired', 'refunded']),
  amount: z.string(),
  currency: z.string(),
  tariff_id: z.number().int().nullable().describe('null for a balance top-up'),
  created_at: z.string(),
  expires_at: z.string().nullable(),
});

const PAYMENT_SELECT = `select p.*, u.telegram_id, u.language from payments p join users u on u.id = p.user_id where p.id = ?`;

export function paymentRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/api/v1/payments/create',
      summary: 'Start a purchase: a new payment (YooKassa link or Stars invoice payload) and its workflow',
      tag: 'bot',
      auth: 'api',
      body: createBody,
      headers: createHeaders,
      responses: {
        201: {
          description:
            'Pending payment: a new one, the open one for the same user, tariff and provider, or the one this Idempotency-Key made. ' +
            'Provider `balance`: `payment_status: "succeeded"` (paid from the balance at once, the key follows by message). ' +
            'Purpose `topup`: a payment that credits `amount` to the balance once paid (`credit_amount`), by card or, with TOPUP_STAR_RATE set, by Stars (the Stars price rounded up). ' +
            'With `promo_code`: `list_price` and `discount` are added; a 100 % code answers `payment_status: "succeeded"`, provider `free`, amount 0, no confirmation_url',
          schema: paymentCreated,
        },
        403: { description: '`user_blocked`: an operator blocked this user', schema: errorBody },
        404: {
          description: 'Unknown user or tariff (inactive tariffs are not on sale); `promo_not_found`',
          schema: errorBody,
        },
        409: {
          description:
            '`location_mismatch`: the user has an active access in another location (one access per user); ' +
            '`insufficient_balance`: provider `balance` and the balance does not cover the tariff; ' +
            "`idempotency_key_reused`: the key came with another body; `purchase_closed`: the key's purchase has finished; " +
            'promo code refusals: `promo_used`, `promo_exhausted`, `promo_wrong_tariff`, `promo_first_purchase_only`; ' +
            '`no_active_subscription`: a traffic pack (tariff kind `traffic_pack`) needs an active access to add to; ' +
            '`stars_subscription_active`: auto-renew by Stars asked while a Stars subscription already renews the access',
          schema: errorBody,
        },
        410: {
          description: "`promo_expired` / `promo_not_started`: outside the code's validity",
          schema: errorBody,
        },
        422: {
          description:
            'A field is invalid; the body names it. `amount_below_minimum`: the discounted price is under the provider minimum; `promo_not_a_discount`: a free-days code (redeem it instead); ' +
            '`stars_subscription_unavailable`: `save_payment_method` with Stars needs a 30-day tariff (Telegram subscriptions renew every 30 days) and no promo code',
          schema: errorBody,
        },
        429: limitDoc,
        503: {
          description:
            'The payment provider is down or not configured; `provider_unavailable` at once while its circuit breaker is open',
          schema: errorBody,
        },
      },
    },
    async ({ body, headers }, _req, res) => {
      const user = await requireUser(deps.orm, body.telegram_id);
      const idempotencyKey = headers['idempotency-key'] as string | undefined;
      if (body.purpose === 'topup') {
        const topUp = await startTopUp(deps, res, { user, ...body, idempotencyKey, body });
        return void res.status(201).json(topUp);
      }
      // `gift`: the buyer gets a gift link to forward instead of access (api/gifts.ts, workflows/gift.ts).
      const gift = body.purpose === 'gift';
      if (body.purpose && !['subscription', 'traffic_pack'].includes(body.purpose) && !gift)
        throw invalidField('purpose', `purpose "${body.purpose}" is not sold through this route`);
      const tariff = await requireActiveTariff(deps.orm, { id: body.tariff_id, slug: body.tariff_slug });
      // A traffic pack adds bytes to the running access (api/traffic-pack.ts): 409 without one.
      const pack = await trafficPackPurchase(deps.orm, user, tariff, body.purpose);
      // A gift is for someone else: the buyer's own access and its location do not matter.
      if (!gift && !pack) await refuseOtherLocation(deps.orm, user, tariff);
      // Auto-renew by Stars is a Telegram subscription: 30-day tariffs, list price (api/stars-subscription.ts).
      if (body.save_payment_method && body.provider === 'stars')
        await refuseStarsSubscription(deps, user.id, tariff, body.promo_code);
      const { body: payment } = await admitAndStart(deps, {
        user,
        tariff,
        provider: body.provider,
        purpose: gift ? 'gift' : pack ? 'traffic_pack' : undefined,
        idempotencyKey,
        requestHash: idempotencyKey ? requestHash(body) : undefined,
        // A balance payment is settled at once: nothing open to reuse, each tap (key) is its own purchase.
        // A code prices a new payment; an open one for the same tariff was priced without it.
        // The in-flight half of the reuse check knows no purpose: a gift never reuses another payment.
        // A payment with auto-renew consent is its own: an open one was created without the consent.
        reuseOpen: body.provider !== 'balance' && !body.promo_code && !gift && !body.save_payment_method,
        savePaymentMethod: body.save_payment_method === true && !gift,
        beforeStart: () => requireProviderAvailable(deps, body.provider),
        // Promo codes price card and Stars payments; a balance payment is charged at the list price.
        priceFor:
          body.promo_code && body.provider !== 'balance'
            ? (paymentId) =>
                priceWithPromo({
                  ...deps,
                  user,
                  tariff,
                  provider: body.provider as 'yookassa' | 'stars',
                  code: body.promo_code!,
                  paymentId,
                })
            : undefined,
      }).catch((err) => {
        setRetryAfter(res, err);
        throw err;
      });
      res.status(201).json(payment);
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/v1/payments/:payment_id/retry',
      summary: 'A new pending payment for the same user, tariff and provider (after a failed one)',
      tag: 'bot',
      auth: 'api',
      params: paymentIdParams,
      responses: {
        200: { description: 'New pending payment', schema: paymentCreated },
        403: { description: '`user_blocked`: an operator blocked this user', schema: errorBody },
        404: { description: 'Unknown payment, or its tariff is no longer on sale', schema: errorBody },
        409: {
          description:
            '`location_mismatch`, `no_active_subscription` (traffic packs), as for create. A plan change (purpose `upgrade`) is asked again with a new credit: ' +
            'its refusals (`change_pending`, ...), or `change_needs_no_payment` when it now needs none',
          schema: errorBody,
        },
        429: limitDoc,
        503: {
          description:
            'The payment provider is down (`provider_unavailable` while its circuit breaker is open)',
          schema: errorBody,
        },
      },
    },
    async ({ params }, _req, res) => {
      const old = await sqlOne(deps.orm, PAYMENT_SELECT, [params.payment_id]);
      if (!old) throw notFound('payment_not_found');
      const user = await requireUser(deps.orm, String(old.telegram_id));
      if (old.purpose === 'topup') {
        // A failed top-up's Retry: a new top-up of the same amount.
        const topUp = await startTopUp(deps, res, {
          user,
          amount: String(old.credit_amount ?? old.amount),
          provider: old.provider,
          body: {},
        });
        return void res.status(200).json(topUp);
      }
      const tariff = await requireActiveTariff(deps.orm, { id: old.tariff_id });
      if (old.purpose === 'upgrade')
        return void res.status(200).json(await retryPlanChange(deps, user, tariff, old));
      const gift = old.purpose === 'gift';
      const pack = await trafficPackPurchase(deps.orm, user, tariff, old.purpose);
      if (!gift && !pack) await refuseOtherLocation(deps.orm, user, tariff);
      // An explicit retry asks for a new payment, but the per-user limits still apply.
      const { body } = await admitAndStart(deps, {
        user,
        tariff,
        provider: old.provider,
        purpose: gift ? 'gift' : pack ? 'traffic_pack' : undefined,
        reuseOpen: false,
        beforeStart: () => requireProviderAvailable(deps, old.provider),
      }).catch((err) => {
        setRetryAfter(res, err);
        throw err;
      });
      res.status(200).json(body);
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/v1/payments/:payment_id',
      summary: 'One payment (the bot checks it before accepting a Stars pre_checkout_query)',
      tag: 'bot',
      auth: 'api',
      params: paymentIdParams,
      responses: {
        200: { description: 'The payment', schema: paymentView },
        404: { description: 'Unknown payment', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      const p = await sqlOne(deps.orm, PAYMENT_SELECT, [params.payment_id]);
      if (!p) throw notFound('payment_not_found');
      res.json({
        payment_id: p.id,
        telegram_id: Number(p.telegram_id),
        provider: p.provider,
        payment_status: p.status,
        amount: p.amount,
        currency: p.currency,
        tariff_id: p.tariff_id === null ? null : Number(p.tariff_id),
        created_at: new Date(p.created_at).toISOString(),
        expires_at: p.expires_at ? new Date(p.expires_at).toISOString() : null,
      });
    },
  );
}
