import { z } from 'zod';
import { cancelStarsSubscriptionOfPayment } from '../stars-subscription';
import { adminIdentity, recordAdminAction } from '../audit';
import type { ApiDeps } from '../deps';
import { HttpError } from '../errors';
import { bookAdminRefund, payOutRefund, refuseWhilePurchaseOwnsPayment } from '../refunds';
import type { RouteTable } from '../route-table';
import { errorBody, paymentIdParams, price } from '../schemas';

const refundBody = z.object({
  amount: price.optional().describe('default: all that is left of the payment'),
  to: z
    .enum(['provider', 'balance'])
    .optional()
    .describe(
      'default `provider` (the card or Stars that paid); a balance payment always goes back to the balance',
    ),
  reason: z.string().trim().min(1, 'say why (it goes into the audit trail)').max(500),
});
const refundAnswer = z.object({
  refund_id: z.string().uuid(),
  payment_id: z.string().uuid(),
  amount: z.string(),
  currency: z.string(),
  to: z.enum(['provider', 'balance']),
  status: z
    .enum(['succeeded', 'pending'])
    .describe('`pending`: booked, the provider has not answered yet (retried until it does)'),
  access_expires_at: z
    .string()
    .nullable()
    .describe('the new end of the access this payment paid for, shortened by the refunded share'),
});

export function adminRefundRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/api/v1/admin/payments/:payment_id/refund',
      summary: 'Refund a payment, fully or partly, through the provider that took it or to the balance',
      tag: 'admin',
      auth: 'admin',
      params: paymentIdParams,
      body: refundBody,
      responses: {
        200: { description: 'Refund booked and (normally) paid out', schema: refundAnswer },
        404: { description: 'Unknown payment', schema: errorBody },
        409: {
          description:
            '`payment_not_refundable` (not succeeded, or free), `refund_exceeds_payment` (more than is left), `balance_spent` (a top-up already spent), `purchase_in_progress` (its purchase has not granted yet: use `POST /admin/purchases/{id}/refund`)',
          schema: errorBody,
        },
        422: {
          description: 'A field is invalid (e.g. a partial Stars refund); the body names it',
          schema: errorBody,
        },
      },
    },
    async ({ params, body }, _req, res) => {
      const admin = adminIdentity(res);
      const audit = (result: 'ok' | 'refused' | 'failed', detail: string | null) =>
        recordAdminAction(deps.orm, {
          admin,
          action: 'payment.refund',
          target: `payment:${params.payment_id}`,
          params: { amount: body.amount ?? null, to: body.to ?? null, reason: body.reason },
          result,
          detail,
        });
      const booked = await refuseWhilePurchaseOwnsPayment(deps, params.payment_id)
        .then(() => bookAdminRefund(deps, { paymentId: params.payment_id, ...body }))
        .catch(async (err) => {
          await audit(err instanceof HttpError ? 'refused' : 'failed', (err as Error).message);
          throw err;
        });
      await audit('ok', `refund ${booked.refundId}: ${booked.amount} ${booked.currency} to ${booked.to}`);
      await cancelStarsSubscriptionOfPayment(deps, booked.paymentId); // a refunded Stars subscription stops
      const paid = await payOutRefund(deps, booked);
      res.json({
        refund_id: booked.refundId,
        payment_id: booked.paymentId,
        amount: booked.amount,
        currency: booked.currency,
        to: booked.to,
        status: paid ? 'succeeded' : 'pending',
        access_expires_at: booked.accessExpiresAt,
      });
    },
  );
}
