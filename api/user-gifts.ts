import type { MikroORM } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { startLink } from '../activities/gifts';
import { iso, sql } from './db';

// The buyer's own gifts (the bot's "My gifts"): what each became, and the link again while it can be claimed.

const SHOWN = 20;

export const userGiftView = z.object({
  tariff_name: z.string(),
  status: z
    .enum(['unclaimed', 'claimed', 'refunding', 'refunded'])
    .describe(
      '`unclaimed` until GIFT_CLAIM_WINDOW ends; then `refunding` → `refunded` unless someone claimed it',
    ),
  amount: z.string(),
  currency: z.string(),
  created_at: z.string(),
  claim_until: z.string(),
  claimed_at: z.string().nullable(),
  refunded_at: z.string().nullable(),
  start_parameter: z
    .string()
    .nullable()
    .describe('`gift_<code>` while the gift can still be claimed (only its buyer sees it), else null'),
  link: z.string().nullable().describe('https://t.me/<BOT_USERNAME>?start=gift_<code> while claimable'),
});
export const userGiftsBody = z.object({ gifts: z.array(userGiftView) });

export async function giftsBoughtBy(orm: MikroORM, userId: string, botUsername: string | undefined) {
  const rows = await sql(
    orm,
    `select g.code, g.status, g.created_at, g.claim_until, g.claimed_at, g.refunded_at, t.name as tariff_name,
            p.amount, p.currency, (g.status = 'unclaimed' and g.claim_until > now()) as claimable
       from gifts g join tariffs t on t.id = g.tariff_id join payments p on p.id = g.payment_id
      where g.buyer_user_id = ? order by g.created_at desc, g.id limit ?`,
    [userId, SHOWN],
  );
  return {
    gifts: rows.map((g) => {
      const start = g.claimable ? `gift_${g.code}` : null;
      return {
        tariff_name: g.tariff_name,
        status: g.status,
        amount: String(g.amount),
        currency: g.currency,
        created_at: iso(g.created_at)!,
        claim_until: iso(g.claim_until)!,
        claimed_at: iso(g.claimed_at),
        refunded_at: iso(g.refunded_at),
        start_parameter: start,
        link: start ? startLink(botUsername, start) : null,
      };
    }),
  };
}
