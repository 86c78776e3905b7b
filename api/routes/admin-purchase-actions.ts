import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import {
  operatorRefundSignal,
  type PurchaseStatus,
  purchaseStatusQuery,
  purchaseWorkflowId,
} from '../../workflows/purchase-messages';
import { adminIdentity } from '../audit';
import { audited } from '../admin-workflows';
import type { ApiDeps } from '../deps';
import { HttpError, notFound } from '../errors';
import type { RouteTable } from '../route-table';
import { errorBody, paymentIdParams } from '../schemas';

const stageAnswer = z.object({
  workflow_id: z.string(),
  stage: z.string().describe('the purchase stage after the action (PurchaseStage)'),
});
const retryAnswer = stageAnswer.extend({
  reset: z
    .array(z.object({ activity_type: z.string(), attempt: z.number().int() }))
    .describe('the pending activities that were made to run again at once'),
});
const closedDoc = {
  description:
    '`purchase_closed` (finished: refund its payment with `POST /admin/payments/{id}/refund`), `purchase_not_stuck` (nothing to retry, or not in a stage this action applies to)',
  schema: errorBody,
};
/** How long the refund route waits to see the purchase take its refund path before it answers 202 anyway. */
const REFUND_WATCH_MS = 5_000;

/**
 * The runbook's "retry or skip a stuck step" (docs/operations.md §6.1) as admin API calls, audited:
 * retry-step makes the purchase's pending activities run again now (Temporal ResetActivity); refund gives up
 * on a paid purchase that cannot place its client and refunds it through the purchase itself, so the money
 * has exactly one owner.
 */
export function adminPurchaseActionRoutes(routes: RouteTable, deps: ApiDeps): void {
  const common = { tag: 'admin', auth: 'admin' as const, params: paymentIdParams };

  const runningPurchase = async (paymentId: string) => {
    const handle = deps.temporal.workflow.getHandle(purchaseWorkflowId(paymentId));
    const described = await handle.describe().catch((err) => {
      if (err instanceof WorkflowNotFoundError) throw notFound('purchase_not_found');
      throw err;
    });
    if (described.status.name !== 'RUNNING')
      throw new HttpError(409, 'purchase_closed', `the purchase is ${described.status.name.toLowerCase()}`);
    const status = (await handle.query(purchaseStatusQuery)) as PurchaseStatus;
    return { handle, described, status };
  };

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/purchases/:payment_id/retry-step',
      summary: 'Run the stuck purchase step again now instead of waiting for its retry backoff',
      responses: {
        200: { description: 'The pending activities were reset', schema: retryAnswer },
        404: { description: 'No purchase for this payment', schema: errorBody },
        409: closedDoc,
      },
    },
    async ({ params }, _req, res) => {
      const what = { action: 'purchase.retry_step', target: `payment:${params.payment_id}` };
      const answer = await audited(deps, res, what, async () => {
        const { handle, described, status } = await runningPurchase(params.payment_id);
        const raw = await deps.temporal.workflowService.describeWorkflowExecution({
          namespace: deps.config.TEMPORAL_NAMESPACE,
          execution: { workflowId: handle.workflowId, runId: described.runId },
        });
        const pending = raw.pendingActivities ?? [];
        if (pending.length === 0)
          throw new HttpError(409, 'purchase_not_stuck', `no step is pending (stage ${status.stage})`);
        for (const activity of pending) {
          await deps.temporal.workflowService.resetActivity({
            namespace: deps.config.TEMPORAL_NAMESPACE,
            execution: { workflowId: handle.workflowId, runId: described.runId },
            id: activity.activityId,
            identity: adminIdentity(res),
          });
        }
        return {
          workflow_id: handle.workflowId,
          stage: status.stage,
          reset: pending.map((a) => ({
            activity_type: a.activityType?.name ?? 'unknown',
            attempt: Number(a.attempt ?? 0),
          })),
        };
      });
      res.json(answer);
    },
  );

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/purchases/:payment_id/refund',
      summary:
        'Skip to refund: a paid purchase stuck placing its client (stage PROVISIONING) gives up and refunds through its own workflow',
      body: z.object({ reason: z.string().trim().min(1, 'say why (it goes into the audit trail)').max(500) }),
      responses: {
        200: { description: 'The purchase took its refund path', schema: stageAnswer },
        202: {
          description: 'Signalled; the purchase refunds when its current node call ends',
          schema: stageAnswer,
        },
        404: { description: 'No purchase for this payment', schema: errorBody },
        409: closedDoc,
      },
    },
    async ({ params, body }, _req, res) => {
      const what = { action: 'purchase.refund', target: `payment:${params.payment_id}`, params: body };
      const answer = await audited(deps, res, what, async () => {
        const { handle, status } = await runningPurchase(params.payment_id);
        // Only before the access exists: afterwards the payment bought something, and its refund shortens it.
        if (status.stage !== 'PROVISIONING' || status.subscriptionId)
          throw new HttpError(
            409,
            'purchase_not_stuck',
            `stage ${status.stage}: only a paid purchase still placing its client can skip to refund`,
          );
        await handle.signal(operatorRefundSignal, { admin: adminIdentity(res), reason: body.reason });
        let stage: PurchaseStatus['stage'] = status.stage;
        for (const until = Date.now() + REFUND_WATCH_MS; stage === 'PROVISIONING' && Date.now() < until; ) {
          await new Promise((r) => setTimeout(r, 250));
          stage = ((await handle.query(purchaseStatusQuery)) as PurchaseStatus).stage;
        }
        if (stage !== 'PROVISIONING' && stage !== 'REFUNDING' && stage !== 'REFUNDED')
          throw new HttpError(
            409,
            'purchase_not_stuck',
            `the access was granted meanwhile (stage ${stage}): refund its payment with POST /admin/payments/{id}/refund`,
          );
        return { workflow_id: handle.workflowId, stage };
      });
      res.status(answer.stage === 'PROVISIONING' ? 202 : 200).json(answer);
    },
  );
}
