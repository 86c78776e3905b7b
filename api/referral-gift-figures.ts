import type { MikroORM } from '@mikro-orm/postgresql';
import { Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import { sql } from './db';

// The money paths of referrals and gifts, for /admin/stats and /metrics: gift payments by outcome
// (unclaimed money is owed: claimed or refunded, never kept) and referral days granted or taken back.

const money = z.object({ currency: z.string(), amount: z.string(), gifts: z.number().int() });

export const referralGiftStats = z.object({
  gifts: z.object({
    unclaimed: z
      .array(money)
      .describe('paid, waiting for a claim (refunded at the end of GIFT_CLAIM_WINDOW)'),
    claimed: z.array(money),
    refunded: z.array(money).describe('unclaimed in the window, money back to the buyer'),
  }),
  referrals: z.object({
    referred_users: z.number().int(),
    rewards_granted: z.number().int(),
    rewards_clawed_back: z.number().int(),
    bonus_days_granted: z.number(),
    bonus_days_clawed_back: z.number(),
  }),
});
export type ReferralGiftStats = z.infer<typeof referralGiftStats>;

export async function collectReferralGiftStats(orm: MikroORM): Promise<ReferralGiftStats> {
  const [giftRows, [r]] = await Promise.all([
    sql(
      orm,
      `select case when g.status = 'refunding' then 'unclaimed' else g.status end as status, p.currency,
              sum(p.amount)::text as amount, count(*)::int as gifts
         from gifts g join payments p on p.id = g.payment_id group by 1, 2 order by 1, 2`,
    ),
    sql(
      orm,
      `select (select count(*)::int from users where referred_by is not null) as referred,
              count(*) filter (where status in ('granted', 'clawed_back'))::int as granted,
              count(*) filter (where status = 'clawed_back')::int as clawed,
              coalesce(sum(bonus_seconds) filter (where status in ('granted', 'clawed_back')), 0)::float / 86400 as days,
              coalesce(sum(clawed_back_seconds), 0)::float / 86400 as clawed_days
         from referral_rewards`,
    ),
  ]);
  const of = (status: string) =>
    giftRows
      .filter((g) => g.status === status)
      .map((g) => ({ currency: g.currency, amount: g.amount, gifts: Number(g.gifts) }));
  return {
    gifts: { unclaimed: of('unclaimed'), claimed: of('claimed'), refunded: of('refunded') },
    referrals: {
      referred_users: r.referred,
      rewards_granted: r.granted,
      rewards_clawed_back: r.clawed,
      bonus_days_granted: Math.round(r.days * 100) / 100,
      bonus_days_clawed_back: Math.round(r.clawed_days * 100) / 100,
    },
  };
}

/** Gauges read from PostgreSQL at scrape time (cached for a few seconds, so a busy scraper scans nothing). */
export function registerReferralGiftGauges(orm: MikroORM, registry: Registry, cacheMs = 10_000): void {
  if (registry.getSingleMetric('gift_payments')) return;
  let cached: { at: number; stats: Promise<ReferralGiftStats | null> } | undefined;
  const stats = () => {
    if (!cached || Date.now() - cached.at >= cacheMs)
      cached = { at: Date.now(), stats: collectReferralGiftStats(orm).catch(() => null) };
    return cached.stats;
  };
  new Gauge({
    name: 'gift_payments',
    help: 'Gift payments by state (unclaimed, claimed, refunded) and currency',
    labelNames: ['state', 'currency'],
    registers: [registry],
    async collect() {
      const s = await stats();
      if (!s) return;
      this.reset();
      for (const state of ['unclaimed', 'claimed', 'refunded'] as const)
        for (const g of s.gifts[state]) this.set({ state, currency: g.currency }, g.gifts);
    },
  });
  new Gauge({
    name: 'gift_amount',
    help: 'Money of gift payments by state and currency (unclaimed money is owed to a claimant or the buyer)',
    labelNames: ['state', 'currency'],
    registers: [registry],
    async collect() {
      const s = await stats();
      if (!s) return;
      this.reset();
      for (const state of ['unclaimed', 'claimed', 'refunded'] as const)
        for (const g of s.gifts[state]) this.set({ state, currency: g.currency }, Number(g.amount));
    },
  });
  new Gauge({
    name: 'referral_bonus_days',
    help: 'Referral bonus days granted and taken back (after a refund of the referee payment)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const s = await stats();
      if (!s) return;
      this.set({ kind: 'granted' }, s.referrals.bonus_days_granted);
      this.set({ kind: 'clawed_back' }, s.referrals.bonus_days_clawed_back);
    },
  });
  new Gauge({
    name: 'referral_rewards',
    help: 'Referral rewards by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const s = await stats();
      if (!s) return;
      this.set({ state: 'granted' }, s.referrals.rewards_granted - s.referrals.rewards_clawed_back);
      this.set({ state: 'clawed_back' }, s.referrals.rewards_clawed_back);
    },
  });
}
