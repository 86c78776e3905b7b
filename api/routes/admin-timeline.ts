import { z } from 'zod';
import { broadcastWorkflowId } from '../../workflows/broadcast-messages';
import {
  PURCHASE_WORKFLOW_TYPE,
  purchaseWorkflowId,
  subscriptionWorkflowId,
} from '../../workflows/purchase-messages';
import { iso, sql } from '../db';
import type { ApiDeps } from '../deps';
import { requireUser } from '../purchases';
import type { RouteTable } from '../route-table';
import { errorBody, telegramIdParams } from '../schemas';

const entry = z.object({
  at: z.string(),
  kind: z.string(),
  summary: z.string(),
  data: z.record(z.unknown()),
  /** The workflow behind this entry, in the Temporal UI. */
  workflow_url: z.string().nullable(),
});
type Entry = z.infer<typeof entry>;

/** Live workflows of this user are asked for their stage; a slow Temporal must not hold the screen. */
const TEMPORAL_WAIT_MS = 3_000;

/**
 * `GET /api/v1/admin/users/{telegram_id}/timeline`: one user's whole story in time order, to answer
 * "I paid and got nothing" on one screen: payments and their provider states, purchase stages (from
 * Temporal's search attributes), subscription events, messages with their delivery result, broadcasts,
 * admin actions, each with a link to its workflow in the Temporal UI.
 */
export function adminTimelineRoutes(routes: RouteTable, deps: ApiDeps): void {
  const ui = deps.config.TEMPORAL_UI_URL.replace(/\/+$/, '');
  const link = (workflowId: string) =>
    `${ui}/namespaces/${encodeURIComponent(deps.config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;

  routes.add(
    {
      method: 'get',
      path: '/api/v1/admin/users/:telegram_id/timeline',
      summary: "A user's story in time order: payments, stages, access events, messages, admin actions",
      tag: 'admin',
      auth: 'admin',
      params: telegramIdParams,
      responses: {
        200: {
          description: 'Oldest first; `workflow_url` opens the workflow in the Temporal UI',
          schema: z.object({ telegram_id: z.number().int(), entries: z.array(entry) }),
        },
        404: { description: 'Unknown user', schema: errorBody },
      },
    },
    async ({ params }, _req, res) => {
      const user = await requireUser(deps.orm, params.telegram_id);
      const tg = params.telegram_id;
      const [payments, events, notes, deliveries, actions, stages] = await Promise.all([
        sql(deps.orm, `select * from payments where user_id = ? order by created_at`, [user.id]),
        sql(
          deps.orm,
          `select e.* from subscription_events e join subscriptions s on s.id = e.subscription_id where s.user_id = ? order by e.id`,
          [user.id],
        ),
        sql(deps.orm, `select * from notifications where telegram_id = ? order by created_at`, [tg]),
        sql(deps.orm, `select * from broadcast_deliveries where telegram_id = ? order by updated_at`, [tg]),
        sql(deps.orm, `select * from admin_actions where target = ? order by id`, [`user:${tg}`]),
        purchaseStages(tg),
      ]);
      const entries: Entry[] = [];
      const add = (
        at: unknown,
        kind: string,
        summary: string,
        data: Record<string, unknown>,
        wf?: string,
      ) => {
        const when = iso(at as string);
        if (when) entries.push({ at: when, kind, summary, data, workflow_url: wf ? link(wf) : null });
      };
      for (const p of payments) {
        const wf = purchaseWorkflowId(p.id);
        const money = `${p.amount} ${p.currency} via ${p.provider}`;
        const data = { payment_id: p.id, status: p.status, provider_payment_id: p.provider_payment_id };
        add(p.created_at, 'payment.created', `payment created: ${money}`, data, wf);
        if (p.paid_at) add(p.paid_at, 'payment.succeeded', `paid: ${money}`, data, wf);
        if (p.status === 'canceled' || p.status === 'expired')
          add(
            p.updated_at ?? p.created_at,
            `payment.${p.status}`,
            `${p.status}: ${p.cancellation_reason ?? ''}`,
            data,
            wf,
          );
        if (p.refunded_at) add(p.refunded_at, 'payment.refunded', `refunded: ${money}`, data, wf);
      }
      for (const s of stages)
        add(
          s.at,
          'purchase.stage',
          `purchase ${s.stage}`,
          { payment_id: s.paymentId, stage: s.stage, status: s.status },
          s.workflowId,
        );
      for (const e of events)
        add(
          e.created_at,
          `subscription.${e.type}`,
          `access ${e.type}`,
          { subscription_id: e.subscription_id, payment_id: e.payment_id, ...(e.data ?? {}) },
          subscriptionWorkflowId(e.subscription_id),
        );
      for (const n of notes)
        add(n.sent_at ?? n.created_at, 'message', `message ${n.kind}: ${n.status}`, {
          kind: n.kind,
          status: n.status,
          dedupe_key: n.dedupe_key,
        });
      for (const d of deliveries)
        add(
          d.updated_at,
          'broadcast',
          `broadcast: ${d.status}`,
          { broadcast_id: d.broadcast_id, status: d.status },
          broadcastWorkflowId(String(d.broadcast_id)),
        );
      for (const a of actions)
        add(a.created_at, 'admin', `${a.action} by ${a.admin}: ${a.result}`, {
          action: a.action,
          admin: a.admin,
          result: a.result,
          params: a.params,
          detail: a.detail,
        });
      entries.sort((a, b) => a.at.localeCompare(b.at));
      res.json({ telegram_id: Number(tg), entries });
    },
  );

  /** Each purchase workflow of the user with its current stage (search attribute), newest 50. */
  async function purchaseStages(telegramId: string) {
    const found: Array<{ workflowId: string; paymentId: unknown; stage: unknown; status: string; at: Date }> =
      [];
    const work = (async () => {
      for await (const wf of deps.temporal.workflow.list({
        query: `WorkflowType = "${PURCHASE_WORKFLOW_TYPE}" AND TelegramId = "${telegramId}"`,
        pageSize: 50,
      })) {
        const attrs = wf.searchAttributes as Record<string, unknown[] | undefined>;
        found.push({
          workflowId: wf.workflowId,
          paymentId: attrs.PaymentId?.[0] ?? null,
          stage: attrs.PurchaseStage?.[0] ?? null,
          status: wf.status.name,
          at: (attrs.StageEnteredAt?.[0] as Date | undefined) ?? wf.startTime,
        });
        if (found.length >= 50) break;
      }
    })().catch((err) => deps.logger.warn({ err: (err as Error).message }, 'timeline: Temporal list failed'));
    await Promise.race([work, new Promise((r) => setTimeout(r, TEMPORAL_WAIT_MS).unref())]);
    return found;
  }
}
