import type { MikroORM } from '@mikro-orm/postgresql';
import { Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import { sql } from '../db';
import { COUNTED_REDEMPTION } from './codes';

export const growthStatsBody = z.object({
  trials: z.object({
    granted: z.number().int(),
    active: z.number().int(),
    converted: z.number().int().describe('trials later extended by a payment'),
  }),
  promo: z.object({
    activations: z.number().int(),
    users: z.number().int(),
    revenue: z.array(z.object({ currency: z.string(), amount: z.string(), payments: z.number().int() })),
    discount_given: z.array(z.object({ currency: z.string(), amount: z.string() })),
  }),
});
export type GrowthStats = z.infer<typeof growthStatsBody>;

const TRIALS = `select count(*)::int as granted,
    count(*) filter (where s.status = 'active')::int as active,
    count(*) filter (where exists (select 1 from subscription_events e
      where e.subscription_id = t.subscription_id and e.type = 'extended' and e.payment_id is not null))::int as converted
  from trials t left join subscriptions s on s.id = t.subscription_id`;

const REDEMPTIONS = `from promo_redemptions r left join payments p on p.id = r.payment_id where ${COUNTED_REDEMPTION}`;

/** Trials and promo codes for /admin/stats: the money paths they open, beside the revenue. */
export async function growthStats(orm: MikroORM): Promise<GrowthStats> {
  const [[trials], [counts], revenue, discount] = await Promise.all([
    sql(orm, TRIALS),
    sql(orm, `select count(*)::int as activations, count(distinct r.user_id)::int as users ${REDEMPTIONS}`),
    sql(
      orm,
      `select p.currency, sum(p.amount)::text as amount, count(*)::int as payments ${REDEMPTIONS} and p.status = 'succeeded'
        group by p.currency order by p.currency`,
    ),
    sql(
      orm,
      `select r.currency, sum(r.discount)::text as amount ${REDEMPTIONS} and p.status = 'succeeded'
        group by r.currency order by r.currency`,
    ),
  ]);
  return {
    trials: { granted: trials.granted, active: trials.active, converted: trials.converted },
    promo: {
      activations: counts.activations,
      users: counts.users,
      revenue: revenue.map((r) => ({ currency: r.currency, amount: r.amount, payments: r.payments })),
      discount_given: discount.map((r) => ({ currency: r.currency, amount: r.amount })),
    },
  };
}

const CACHE_MS = 15_000;

/** /metrics: trials and promo activations/revenue per code, read from PostgreSQL at most every 15 s. */
export function registerGrowthGauges(registry: Registry, orm: MikroORM): void {
  if (registry.getSingleMetric('promo_activations')) return;
  let cached: { at: number; rows: Promise<Array<Record<string, unknown>> | null> } | undefined;
  const perCode = () => {
    if (!cached || Date.now() - cached.at >= CACHE_MS) {
      cached = {
        at: Date.now(),
        rows: sql(
          orm,
          `select r.code, count(*)::int as activations,
                  coalesce(sum(p.amount) filter (where p.status = 'succeeded' and p.currency <> 'XTR'), 0)::float as revenue,
                  coalesce(sum(r.discount) filter (where p.status = 'succeeded' and r.currency <> 'XTR'), 0)::float as discount
             ${REDEMPTIONS} group by r.code`,
        ).catch(() => null), // a scrape still answers when PostgreSQL is down
      };
    }
    return cached.rows;
  };
  // One gauge per figure, all fed by the same cached per-code query.
  const perCodeGauges: Array<[name: string, help: string, column: 'activations' | 'revenue' | 'discount']> = [
    [
      'promo_activations',
      'Promo code redemptions that count (paid, pending, or free days), by code',
      'activations',
    ],
    [
      'promo_revenue_rub',
      'Money taken by succeeded payments with a promo code (card payments), by code',
      'revenue',
    ],
    [
      'promo_discount_rub',
      'Price given away by promo codes on succeeded payments (RUB, list price minus amount paid), by code',
      'discount',
    ],
  ];
  for (const [name, help, column] of perCodeGauges)
    new Gauge({
      name,
      help,
      labelNames: ['code'],
      registers: [registry],
      async collect() {
        const rows = await perCode();
        if (!rows) return;
        this.reset();
        for (const r of rows) this.set({ code: String(r.code) }, Number(r[column]));
      },
    });
  new Gauge({
    name: 'trials_granted',
    help: 'Trials ever granted (one per user)',
    registers: [registry],
    async collect() {
      const rows = await sql(orm, `select count(*)::int as n from trials`).catch(() => null);
      if (rows) this.set(Number(rows[0].n));
    },
  });
}
