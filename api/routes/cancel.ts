import { z } from 'zod';
import { setAutoRenew } from '../auto-renew';
import { sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { HttpError, notFound } from '../errors';
import { requireUser } from '../purchases';
import { cancelStarsSubscriptions } from '../stars-subscription';
import { cancelWithRefund, refundQuote } from '../refunds';
import type { RouteTable } from '../route-table';
import { errorBody, telegramIdParams } from '../schemas';

const cancelBody = z.object({
  refund: z
    .boolean()
    .optional()
    .describe(
      'true: end the access now and refund by REFUND_POLICY within REFUND_WINDOW; false: keep it to its end',
    ),
});
const cancelAnswer = z.object({
  refunded_amount: z.string().describe('what goes back, to the card/Stars that paid or to the balance'),
  revoked: z.boolean().describe('true: the access ended now and its key stops working'),
});

export function cancelRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/api/v1/subscriptions/:telegram_id/cancel',
      summary: "Cancel the user's access: with `refund: true` it ends now and the unused part is refunded",
      tag: 'bot',
      auth: 'api',
      params: telegramIdParams,
      body: cancelBody,
      responses: {
        200: { description: 'Canceled (or, without refund, left to run to its end)', schema: cancelAnswer },
        404: {
          description: 'Unknown user, or no active access (`no_active_subscription`)',
          schema: errorBody,
        },
        409: {
          description: '`refund_not_available`: refunds are off, or no payment is within REFUND_WINDOW',
          schema: errorBody,
        },
        503: {
          description: '`cancel_in_progress`: the cancel is booked but did not finish in time; ask again',
          schema: errorBody,
        },
      },
    },
    async ({ params, body }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      const sub = await sqlOne(
        deps.orm,
        `select id from subscriptions where user_id = ? and status = 'active'`,
        [user.id],
      );
      if (!sub) throw notFound('no_active_subscription', 'the user has no active access to cancel');
      if (!body.refund) {
        // Without a refund the access runs to its end and nothing renews it any more (auto-renew off).
        await setAutoRenew(deps.orm, user.id, false);
        await cancelStarsSubscriptions(deps, user.id, 'access canceled');
        return void res.json({ refunded_amount: '0.00', revoked: false });
      }
      await refundQuote(deps, sub.id);
      // A refunded access renews no more: Telegram stops the Stars subscription (a charge still coming is refunded).
      await cancelStarsSubscriptions(deps, user.id, 'access canceled with refund');
      const done = await cancelWithRefund(deps, sub.id);
      if (!done)
        throw new HttpError(503, 'cancel_in_progress', 'the cancel is booked and still running; ask again');
      res.json({ refunded_amount: done.refundedAmount, revoked: done.canceled });
    },
  );
}
