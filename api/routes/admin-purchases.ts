import { z } from 'zod';
import { parseDuration } from '../../infra/duration';
import type { ApiDeps } from '../deps';
import type { RouteTable } from '../route-table';
import { blankIsAbsent, errorBody, PURCHASE_STAGES, telegramIdParam, uuid } from '../schemas';
import { buildPurchasesQuery, listPurchases, purchaseItem } from '../stuck-purchases';

const duration = z
  .string()
  .max(32)
  .transform((v, ctx) => {
    try {
      return parseDuration(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const purchasesQuery = z.object({
  stage: z
    .enum(PURCHASE_STAGES, { errorMap: () => ({ message: `must be one of ${PURCHASE_STAGES.join(', ')}` }) })
    .optional(),
  older_than: blankIsAbsent(duration.optional()).describe(
    'time in the current stage, e.g. 30m, 2h, P1D (empty = any)',
  ),
  telegram_id: telegramIdParam.optional(),
  payment_id: uuid('payment id').optional(),
  include_closed: z.enum(['true', 'false']).optional().describe('also list finished purchases'),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export function adminPurchaseRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/purchases',
      summary: 'Purchases from Temporal visibility, e.g. stuck ones: ?stage=AWAITING_PAYMENT&older_than=30m',
      tag: 'admin',
      auth: 'admin',
      query: purchasesQuery,
      responses: {
        200: {
          description: 'Matching purchases, longest in their stage first, with the query used',
          schema: z.object({ query: z.string(), purchases: z.array(purchaseItem) }),
        },
        422: { description: 'Unknown stage or unreadable duration', schema: errorBody },
      },
    },
    async ({ query }, _req, res) => {
      const filter = {
        stage: query.stage,
        olderThanMs: query.older_than,
        telegramId: query.telegram_id,
        paymentId: query.payment_id,
        includeClosed: query.include_closed === 'true',
        now: new Date(),
      };
      const purchases = await listPurchases(deps.temporal, filter, {
        namespace: deps.config.TEMPORAL_NAMESPACE,
        temporalUiUrl: deps.config.TEMPORAL_UI_URL,
        limit: query.limit,
      });
      res.json({ query: buildPurchasesQuery(filter), purchases });
    },
  );
}
