import { z } from 'zod';
import { iso } from './db';
import type { TariffRow } from '../infra/db/rows';

const DAY_SECONDS = 86_400;

/** What the bot sees of a tariff. */
export const publicTariff = z.object({
  id: z.number().int(),
  slug: z.string(),
  name: z.string(),
  description: z.string(),
  price: z.string().describe('decimal string, e.g. "199.00"'),
  currency: z.string(),
  duration_days: z.number().describe('may be fractional for hourly or minute tariffs'),
  duration_seconds: z.number().int(),
  star_price: z.number().int().nullable(),
  traffic_limit_bytes: z.number().int().nullable().describe('null = unlimited'),
  traffic_reset: z.enum(['never', 'monthly', 'period']),
  device_limit: z.number().int().nullable().describe('null = unlimited'),
  locations: z.array(z.string()),
  kind: z.enum(['subscription', 'traffic_pack']),
  traffic_pack_bytes: z.number().int().nullable(),
});

/** What the operator sees. */
export const adminTariff = publicTariff.extend({
  location: z.string().nullable(),
  is_active: z.boolean(),
  display_order: z.number().int(),
  created_at: z.string(),
});

const nullableNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function tariffView(r: TariffRow): z.infer<typeof adminTariff> {
  return {
    id: Number(r.id),
    slug: r.slug,
    name: r.name,
    description: r.description,
    price: r.price,
    currency: r.currency,
    duration_days: r.duration_seconds / DAY_SECONDS,
    duration_seconds: Number(r.duration_seconds),
    star_price: r.star_price === null ? null : Number(r.star_price),
    traffic_limit_bytes: nullableNumber(r.traffic_limit_bytes),
    traffic_reset: r.traffic_reset ?? 'never',
    device_limit: nullableNumber(r.device_limit),
    locations: r.locations ?? [],
    kind: r.kind ?? 'subscription',
    traffic_pack_bytes: nullableNumber(r.traffic_pack_bytes),
    location: r.location ?? null,
    is_active: r.is_active,
    display_order: Number(r.display_order),
    created_at: iso(r.created_at) ?? '',
  };
}
