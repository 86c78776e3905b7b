import { z } from 'zod';
import { setAutoRenew } from '../auto-renew';
import type { ApiDeps } from '../deps';
import { HttpError, notFound } from '../errors';
import { requireUser } from '../purchases';
import { totalOf } from '../../activities/refund-plan';
import { iso, sqlOne as one } from '../db';
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

/** What a cancel would do now (the bot's confirm screen): a refund within REFUND_WINDOW, or run to the end. */
const cancelPreview = z.object({
  refund_available: z
    .boolean()
    .describe('true: `{refund: true}` ends the access now and refunds `refund_amount`'),
  refund_amount: z.string().describe('"0.00" when no refund is available'),
  currency: z.string(),
  refund_to: z
    .array(z.enum(['provider', 'balance']))
    .describe('where the refund goes: the card/Stars that paid, or the balance (balance payments)'),
  end_date: z.string().describe('when the access ends if it is left to run'),
  auto_renewal: z.boolean().describe('true while the access still renews itself'),
});

export function cancelRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/subscriptions/:telegram_id/cancel',
      summary:
        'What a cancel would do now: the refund within REFUND_WINDOW, or the access running to its end',
      tag: 'bot',
      auth: 'api',
      params: telegramIdParams,
      responses: {
        200: { description: 'The preview (nothing is changed)', schema: cancelPreview },
        404: {
          description: 'Unknown user, or no active access (`no_active_subscription`)',
          schema: errorBody,
        },
      },
    },
    async ({ params }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      const sub = await one(
        deps.orm,
        `select s.id, s.expires_at, coalesce(a.enabled, false) as auto_renewal
           from subscriptions s left join auto_renew_settings a on a.user_id = s.user_id
          where s.user_id = ? and s.status = 'active'`,
        [user.id],
      );
      if (!sub) throw notFound('no_active_subscription', 'the user has no active access to cancel');
      const plan = await refundQuote(deps, sub.id).catch((err) => {
        if (err instanceof HttpError && err.status === 409) return [];
        throw err;
      });
      res.json({
        refund_available: plan.length > 0,
        refund_amount: totalOf(plan),
        currency: plan[0]?.currency ?? 'RUB',
        refund_to: [...new Set(plan.map((p) => p.destination))],
        end_date: iso(sub.expires_at) ?? '',
        auto_renewal: Boolean(sub.auto_renewal),
      });
    },
  );

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
      const sub = await one(
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
