import { z } from 'zod';
import { promoGrantId, promoGrantWorkflowId } from '../../workflows/trial-messages';
import type { ApiDeps } from '../deps';
import { lockUsableCode, type Query } from '../promo/codes';
import { startFreeAccess } from '../promo/free-access';
import { requireUser } from '../purchases';
import type { RouteTable } from '../route-table';
import { errorBody, telegramId } from '../schemas';

const redeemBody = z.object({
  telegram_id: telegramId,
  code: z.string().regex(/^[A-Za-z0-9_-]{3,32}$/, 'must be 3-32 letters, digits, "-" or "_"'),
});
const redeemed = z.object({
  kind: z.enum(['percent', 'amount', 'days']),
  days_added: z
    .number()
    .int()
    .optional()
    .describe('free-days codes: days added to the access (or a new one)'),
  value: z
    .string()
    .optional()
    .describe('percent/amount codes: the discount, applied when paying (promo_code)'),
  workflow_id: z.string().optional(),
});

export function promoRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/api/v1/promo/redeem',
      summary:
        'Redeem a promo code: a free-days code extends the access (or grants one); a discount code is checked and answered, then given as promo_code when paying',
      tag: 'bot',
      auth: 'api',
      body: redeemBody,
      responses: {
        200: { description: 'Redeemed (days) or valid for this user (discount)', schema: redeemed },
        404: { description: 'Unknown user, or `promo_not_found`', schema: errorBody },
        409: {
          description:
            '`promo_used` (this user, per_user_limit), `promo_exhausted` (max_uses), `promo_first_purchase_only`',
          schema: errorBody,
        },
        410: { description: '`promo_expired` or `promo_not_started`', schema: errorBody },
        422: { description: 'A field is invalid; the body names it', schema: errorBody },
      },
    },
    async ({ body }, _req, res) => {
      const user = await requireUser(deps.orm, body.telegram_id);
      const outcome = await deps.orm.em.fork().transactional(async (em) => {
        const q: Query = (sql, params = []) =>
          em.getConnection().execute(sql, params, 'all', em.getTransactionContext());
        const code = await lockUsableCode(q, {
          code: body.code,
          userId: user.id,
          kinds: ['percent', 'amount', 'days'],
        });
        if (code.kind !== 'days')
          return { discount: { kind: code.kind as 'percent' | 'amount', value: String(code.value) } };
        const days = Number(code.value);
        // One redemption and its grant, committed together under the code's lock: the workflow applies it once.
        const [redemption] = await q(
          `insert into promo_redemptions (code, user_id, days_added) values (?, ?, ?) returning id`,
          [code.code, user.id, days],
        );
        const grantId = promoGrantId(String(redemption.id));
        await q(
          `insert into free_grants (id, user_id, reason, duration_seconds) values (?, ?, 'promo_days', ?)`,
          [grantId, user.id, days * 86_400],
        );
        await q(`update promo_redemptions set grant_id = ? where id = ?`, [grantId, redemption.id]);
        return { grant: { days, grantId, workflowId: promoGrantWorkflowId(String(redemption.id)) } };
      });
      if (!outcome.grant) {
        res.json(outcome.discount);
        return;
      }
      const grant = outcome.grant;
      await startFreeAccess(deps, grant.workflowId, {
        grantId: grant.grantId,
        reason: 'promo_days',
        userId: user.id,
        telegramId: body.telegram_id,
        language: user.language,
        durationSeconds: grant.days * 86_400,
        extendExisting: true,
        tariffSlug: deps.config.TRIAL_TARIFF,
        nodeWaitLimitMs: deps.config.NODE_WAIT_LIMIT,
      });
      res.json({ kind: 'days', days_added: grant.days, workflow_id: grant.workflowId });
    },
  );
}
