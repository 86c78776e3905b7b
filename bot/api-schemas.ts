import { z } from 'zod';

/** Response shapes of the contract's API (/work/shared/contract.md), validated at the boundary. */

const money = z.union([z.string(), z.number()]);

// star_price is not in the contract's tariff list yet; the Stars button appears only when the API sends it.
export const tariffSchema = z
  .object({
    id: z.union([z.string(), z.number()]).transform(String),
    slug: z.string(),
    name: z.string(),
    description: z.string().nullish(),
    price: money,
    currency: z.string(),
    duration_days: z.number(),
    star_price: z.number().int().positive().nullish(),
    kind: z.enum(['subscription', 'traffic_pack']).nullish(),
    traffic_pack_bytes: z.number().nullish(),
  })
  .passthrough();

export const paymentSchema = z
  .object({
    payment_id: z.string(),
    confirmation_url: z.string().nullish(),
    payment_status: z.string(),
    amount: money,
    currency: z.string(),
    created_at: z.string().nullish(),
    expires_at: z.string().nullish(),
    workflow_id: z.string().nullish(),
  })
  .passthrough();

export const paymentInfoSchema = z
  .object({
    payment_id: z.string(),
    payment_status: z.string(),
    amount: money.nullish(),
    currency: z.string().nullish(),
    telegram_id: z.number().nullish(),
    expires_at: z.string().nullish(),
  })
  .passthrough();

export const statusSchema = z
  .object({
    has_active_subscription: z.boolean(),
    subscription_id: z.union([z.string(), z.number()]).nullish(),
    status: z.string().nullish(),
    tariff_name: z.string().nullish(),
    days_remaining: z.number().nullish(),
    end_date: z.string().nullish(),
    auto_renewal: z.boolean().nullish(),
    next_charge_at: z.string().nullish(),
    auto_renewal_method: z.string().nullish(),
    last_payment_status: z.string().nullish(),
    trial: z.object({ state: z.string(), end_date: z.string().nullish() }).passthrough().nullish(),
    traffic_used_bytes: z.number().nullish(),
    traffic_limit_bytes: z.number().nullish(),
    suspended: z.boolean().nullish(),
  })
  .passthrough();

export const configSchema = z.object({
  vless_url: z.string(),
  subscription_url: z.string(),
  qr_png_base64: z.string(),
});
export const registeredSchema = z
  .object({ user_id: z.union([z.string(), z.number()]), telegram_id: z.number() })
  .passthrough();
export const anyObject = z.record(z.unknown());

export type Tariff = z.infer<typeof tariffSchema>;
export type CreatedPayment = z.infer<typeof paymentSchema>;
export type PaymentInfo = z.infer<typeof paymentInfoSchema>;
export type SubscriptionStatus = z.infer<typeof statusSchema>;
export type SubscriptionConfig = z.infer<typeof configSchema>;
export type AdminRecord = Record<string, unknown>;

/** GET /subscriptions/{telegram_id}/change: the credit, the pending change, each tariff as a change. */
export const changeQuoteSchema = z
  .object({
    credit: z.string(),
    currency: z.string(),
    tariff_id: z.number(),
    tariff_name: z.string(),
    end_date: z.string().nullish(),
    pending: z
      .object({
        kind: z.enum(['upgrade', 'downgrade']),
        tariff_id: z.number(),
        tariff_name: z.string(),
        effective_at: z.string().nullish(),
      })
      .passthrough()
      .nullable(),
    options: z.array(
      z
        .object({
          tariff_id: z.number(),
          name: z.string(),
          price: z.string(),
          kind: z.enum(['upgrade', 'downgrade']),
          amount: z.string(),
        })
        .passthrough(),
    ),
  })
  .passthrough();
export type ChangeQuote = z.infer<typeof changeQuoteSchema>;

/** POST /subscriptions/{telegram_id}/change: a payment to make (201 shape) or a change done or scheduled (200). */
export const changeAnswerSchema = z
  .object({
    change_id: z.string(),
    kind: z.enum(['upgrade', 'downgrade']),
    credit: z.string(),
    amount: money,
    currency: z.string(),
    status: z.string().optional(),
    payment_id: z.string().optional(),
    confirmation_url: z.string().nullish(),
    payment_status: z.string().optional(),
    created_at: z.string().nullish(),
    expires_at: z.string().nullish(),
    balance_credited: z.string().optional(),
    end_date: z.string().nullish(),
    effective_at: z.string().nullish(),
  })
  .passthrough();
