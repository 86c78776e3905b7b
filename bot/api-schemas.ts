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
