import { z } from 'zod';
import { sql } from '../db';
import type { ApiDeps } from '../deps';
import { requireUser } from '../purchases';
import { referralSummary, referralView } from '../referrals';
import type { RouteTable } from '../route-table';
import { errorBody, telegramIdParams } from '../schemas';

const topReferrer = z.object({
  telegram_id: z.number().int(),
  username: z.string().nullable(),
  invited: z.number().int(),
  rewarded: z.number().int(),
  bonus_days: z.number(),
});

export function referralRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/users/:telegram_id/referral',
      summary: "The user's referral link and what it earned (the bot's invite screen)",
      tag: 'bot',
      auth: 'api',
      params: telegramIdParams,
      responses: {
        200: {
          description: 'Link, code, invited and rewarded users, bonus days earned',
          schema: referralView,
        },
        404: { description: 'Unknown user', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      res.json(await referralSummary(deps.orm, user.id, deps.config.BOT_USERNAME));
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/referrals',
      summary: 'Referral figures: the top referrers, by invited users',
      tag: 'admin',
      auth: 'admin',
      query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
      responses: {
        200: { description: 'Top referrers', schema: z.object({ referrers: z.array(topReferrer) }) },
        422: { description: 'A bad limit', schema: errorBody },
      },
    },
    async ({ query }, _req, res) => {
      const rows = await sql(
        deps.orm,
        `select u.telegram_id, u.username,
                (select count(*)::int from users i where i.referred_by = u.id) as invited,
                (select count(*)::int from referral_rewards r where r.referrer_user_id = u.id and r.status in ('granted', 'clawed_back')) as rewarded,
                (select coalesce(sum(case when r.status = 'granted' then r.bonus_seconds
                                          when r.status = 'clawed_back' then r.bonus_seconds - coalesce(r.clawed_back_seconds, 0) end), 0)::float / 86400
                   from referral_rewards r where r.referrer_user_id = u.id) as bonus_days
           from users u where exists (select 1 from users i where i.referred_by = u.id)
          order by invited desc, u.telegram_id limit ?`,
        [query.limit],
      );
      res.json({
        referrers: rows.map((r) => ({
          telegram_id: Number(r.telegram_id),
          username: r.username ?? null,
          invited: r.invited,
          rewarded: r.rewarded,
          bonus_days: Math.round(Number(r.bonus_days) * 100) / 100,
        })),
      });
    },
  );
}
