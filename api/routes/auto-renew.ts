import { z } from 'zod';
import { autoRenewView, setAutoRenew } from '../auto-renew';
import type { ApiDeps } from '../deps';
import { requireUser } from '../purchases';
import { cancelStarsSubscriptions, reviveStarsSubscription } from '../stars-subscription';
import type { RouteTable } from '../route-table';
import { errorBody, telegramIdParams } from '../schemas';

const autoRenewBody = z.object({
  enabled: z
    .boolean()
    .describe('true: renew automatically (balance first, then the saved card); false: never charge'),
});
export const autoRenewAnswer = z.object({
  auto_renewal: z.boolean(),
  next_charge_at: z
    .string()
    .nullable()
    .describe(
      'when the next automatic charge is tried (AUTO_RENEW_BEFORE before the end); null when off or no access',
    ),
  method: z
    .enum(['card', 'balance', 'stars'])
    .nullable()
    .describe(
      '`card`: the card saved at a payment with save_payment_method; `balance`: no card, the balance only; `stars`: a Stars subscription (Telegram charges every 30 days; switching off cancels it at Telegram)',
    ),
});

export function autoRenewRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'put',
      path: '/api/v1/subscriptions/:telegram_id/auto-renew',
      summary:
        'Switch auto-renew on or off; takes effect before the next charge (off also cancels a Stars subscription at Telegram; on again within its paid period renews it again)',
      tag: 'bot',
      auth: 'api',
      params: telegramIdParams,
      body: autoRenewBody,
      responses: {
        200: { description: 'The auto-renew state now', schema: autoRenewAnswer },
        404: { description: 'Unknown user', schema: errorBody },
      },
    },
    async ({ params, body }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      await setAutoRenew(deps.orm, user.id, body.enabled);
      // Off stops a Stars subscription too: Telegram is told (editUserStarSubscription) before its next charge.
      // On again within the paid period revives it there (is_canceled false); a refunded one stays canceled.
      if (!body.enabled) await cancelStarsSubscriptions(deps, user.id, 'auto-renew switched off');
      else await reviveStarsSubscription(deps, user.id);
      deps.logger.info({ userId: user.id, enabled: body.enabled }, 'auto-renew switched');
      res.json(await autoRenewView(deps.orm, user.id, deps.config.AUTO_RENEW_BEFORE));
    },
  );
}
