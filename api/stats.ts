import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { sql, sqlOne } from './db';
import { growthStats, growthStatsBody } from './promo/stats';
import { collectReferralGiftStats, referralGiftStats } from './referral-gift-figures';

const money = z.object({ currency: z.string(), amount: z.string(), payments: z.number().int() });

export const statsBody = z.object({
  timezone: z.string(),
  users: z.number().int(),
  active_subscriptions: z.number().int(),
  revenue: z.object({
    today: z.array(money),
    this_month: z.array(money),
    by_day: z.array(money.extend({ date: z.string().describe('YYYY-MM-DD') })).describe('last 30 days'),
    by_month: z.array(money.extend({ month: z.string().describe('YYYY-MM') })).describe('last 12 months'),
  }),
  conversion: z.object({
    catalog_viewers: z.number().int(),
    buyers: z.number().int().describe('catalog viewers who then paid'),
    rate: z.number().describe('buyers / catalog_viewers, 0..1'),
  }),
  growth: growthStatsBody.describe('trials and promo codes'),
  nodes: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      status: z.string(),
      capacity: z.number().int(),
      active_subscriptions: z.number().int(),
    }),
  ),
  ...referralGiftStats.shape,
});
export type Stats = z.infer<typeof statsBody>;

// Revenue counts succeeded payments only (refunded money is not revenue), by the moment they were paid.
const PAID = `status = 'succeeded'`;
const paidAt = `(coalesce(paid_at, created_at) at time zone ?)`;

const moneyRows = (rows: Record<string, unknown>[]) =>
  rows.map((r) => ({
    ...r,
    currency: String(r.currency),
    amount: String(r.amount),
    payments: Number(r.payments),
  }));

/** Business figures for the operator; calendar days and months are counted in `timezone`. */
export async function collectStats(orm: MikroORM, timezone: string): Promise<Stats> {
  const now = `(now() at time zone ?)`;
  const revenueSince = (unit: 'day' | 'month') =>
    sql(
      orm,
      `select currency, sum(amount)::text as amount, count(*)::int as payments from payments
        where ${PAID} and ${paidAt} >= date_trunc('${unit}', ${now}) group by currency order by currency`,
      [timezone, timezone],
    );
  // Revenue per calendar day/month for the last `back` periods, labelled `label`.
  const revenueSeries = (label: 'date' | 'month', format: string, unit: 'day' | 'month', back: string) =>
    sql(
      orm,
      `select to_char(${paidAt}, '${format}') as ${label}, currency, sum(amount)::text as amount, count(*)::int as payments
         from payments where ${PAID} and ${paidAt} >= date_trunc('${unit}', ${now}) - interval '${back}'
        group by 1, 2 order by 1, 2`,
      [timezone, timezone, timezone],
    );
  const [counts, today, month, byDay, byMonth, conversion, nodes, growth, referralGift] = await Promise.all([
    sqlOne(
      orm,
      `select (select count(*) from users)::int as users,
              (select count(*) from subscriptions where status = 'active')::int as active`,
    ),
    revenueSince('day'),
    revenueSince('month'),
    revenueSeries('date', 'YYYY-MM-DD', 'day', '29 days'),
    revenueSeries('month', 'YYYY-MM', 'month', '11 months'),
    sqlOne(
      orm,
      `select count(distinct v.user_id)::int as viewers,
              count(distinct p.user_id)::int as buyers
         from catalog_views v
         left join payments p on p.user_id = v.user_id and p.status in ('succeeded', 'refunded') and p.created_at >= v.created_at`,
    ),
    sql(
      orm,
      `select n.id, n.name, n.status, n.capacity, count(s.id)::int as active_subscriptions
         from vpn_nodes n left join subscriptions s on s.node_id = n.id and s.status = 'active'
        group by n.id order by n.name`,
    ),
    growthStats(orm),
    collectReferralGiftStats(orm),
  ]);
  const viewers = Number(conversion?.viewers ?? 0);
  const buyers = Number(conversion?.buyers ?? 0);
  return {
    timezone,
    users: Number(counts?.users ?? 0),
    active_subscriptions: Number(counts?.active ?? 0),
    revenue: {
      today: moneyRows(today) as Stats['revenue']['today'],
      this_month: moneyRows(month) as Stats['revenue']['this_month'],
      by_day: moneyRows(byDay) as Stats['revenue']['by_day'],
      by_month: moneyRows(byMonth) as Stats['revenue']['by_month'],
    },
    conversion: {
      catalog_viewers: viewers,
      buyers,
      rate: viewers ? Math.round((buyers / viewers) * 10_000) / 10_000 : 0,
    },
    growth,
    nodes: nodes.map((n) => ({
      id: n.id,
      name: n.name,
      status: n.status,
      capacity: Number(n.capacity),
      active_subscriptions: Number(n.active_subscriptions),
    })),
    ...referralGift,
  };
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
