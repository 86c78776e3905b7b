import { z } from 'zod';
import type { ApiDeps } from '../deps';
import { adminGiftView, claimGift, giftClaimed, giftCode, listGifts } from '../gifts';
import { registerReferralGiftGauges } from '../referral-gift-figures';
import type { RouteTable } from '../route-table';
import { errorBody, telegramId, telegramIdParams } from '../schemas';
import { requireUser } from '../purchases';
import { giftsBoughtBy, userGiftsBody } from '../user-gifts';

export function giftRoutes(routes: RouteTable, deps: ApiDeps): void {
  registerReferralGiftGauges(deps.orm, deps.metrics.registry);
  routes.add(
    {
      method: 'post',
      path: '/api/v1/gifts/:code/claim',
      summary: 'Claim a gift (the bot sends it for /start gift_<code>): the first other user gets the access',
      tag: 'bot',
      auth: 'api',
      params: z.object({ code: giftCode }),
      body: z.object({ telegram_id: telegramId }),
      responses: {
        200: {
          description: 'The access this gift made (the same answer when the winner claims again)',
          schema: giftClaimed,
        },
        404: { description: '`gift_not_found`, or `user_not_found` (register first)', schema: errorBody },
        409: {
          description: '`gift_claimed`: another user claimed it first; `own_gift`: the buyer cannot claim it',
          schema: errorBody,
        },
        410: {
          description: '`gift_expired`: GIFT_CLAIM_WINDOW is over (the buyer is refunded)',
          schema: errorBody,
        },
        422: { description: 'A field is invalid', schema: errorBody },
        503: {
          description:
            '`claim_pending`: the gift is yours, the access is still being set up and arrives by message',
          schema: errorBody,
        },
      },
    },
    async ({ params, body }, _req, res) => {
      res.json(await claimGift(deps, params.code, body.telegram_id));
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/v1/users/:telegram_id/gifts',
      summary:
        "The gifts this user bought, newest first (the bot's My gifts): state, and the link while claimable",
      tag: 'bot',
      auth: 'api',
      params: telegramIdParams,
      responses: {
        200: { description: 'Up to 20 gifts, newest first', schema: userGiftsBody },
        404: { description: 'Unknown user', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      res.json(await giftsBoughtBy(deps.orm, user.id, deps.config.BOT_USERNAME));
    },
  );

  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/gifts',
      summary: 'Gifts, newest first: who bought, who claimed, and the money state (codes are never shown)',
      tag: 'admin',
      auth: 'admin',
      query: z.object({
        status: z.enum(['unclaimed', 'claimed', 'refunding', 'refunded']).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      }),
      responses: {
        200: { description: 'Gifts', schema: z.object({ gifts: z.array(adminGiftView) }) },
        422: { description: 'A bad filter', schema: errorBody },
      },
    },
    async ({ query }, _req, res) => {
      res.json({ gifts: await listGifts(deps, query) });
    },
  );
}
