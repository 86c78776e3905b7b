import { z } from 'zod';
import { drainWorkflowId, type DrainInput, DRAIN_WORKFLOW_TYPE } from '../../workflows/drain-messages';
import { drainSummary } from '../../workflows/summaries';
import { adminIdentity } from '../audit';
import { audited } from '../admin-workflows';
import { sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { HttpError, notFound } from '../errors';
import { nodeView, toNodeView } from '../node-view';
import type { RouteTable } from '../route-table';
import { errorBody, nodeIdParams } from '../schemas';

const drainView = z.object({
  state: z.enum(['running', 'done', 'failed']),
  workflow_id: z.string(),
  reason: z.enum(['admin', 'dead']),
  moved: z.number().int(),
  remaining: z.number().int(),
  failed: z
    .number()
    .int()
    .describe('accesses that could not move: they stay on this node, which is not disabled'),
  last_error: z
    .string()
    .nullable()
    .describe('why a failed access did not move, e.g. "no healthy node with room in nl" (null: none failed)'),
  started_at: z.string(),
  finished_at: z.string().nullable(),
});

const NODE_WITH_DRAIN = `
  select n.*, (select count(*) from subscriptions s where s.node_id = n.id and s.status in ('active', 'revoking'))::int as active_subscriptions,
         d.state as drain_state, d.workflow_id as drain_workflow_id, d.reason as drain_reason,
         d.started_at as drain_started_at, d.finished_at as drain_finished_at,
         (select count(*) from node_drain_moves m where m.node_id = n.id and m.state = 'moved')::int as drain_moved,
         (select count(*) from node_drain_moves m where m.node_id = n.id and m.state = 'failed')::int as drain_failed,
         (select m.error from node_drain_moves m where m.node_id = n.id and m.state = 'failed'
           order by m.created_at desc limit 1) as drain_last_error,
         (select count(*) from subscriptions s where s.node_id = n.id and s.status = 'active'
             and not exists (select 1 from node_drain_moves m where m.node_id = n.id and m.subscription_id = s.id))::int as drain_remaining
    from vpn_nodes n left join node_drains d on d.node_id = n.id
   where n.id = ?`;

/** Drain a node (workflows/drain.ts) and read one node with its drain's progress, from PostgreSQL. */
export function adminDrainRoutes(routes: RouteTable, deps: ApiDeps): void {
  const common = { tag: 'admin', auth: 'admin' as const };
  const notFoundDoc = { description: 'Unknown node', schema: errorBody };

  routes.add(
    {
      ...common,
      method: 'get',
      path: '/api/v1/admin/nodes/:id',
      summary:
        'One VPN node (no secrets), with its drain: state, moved, remaining, failed (null: never drained)',
      params: nodeIdParams,
      responses: {
        200: { description: 'The node', schema: nodeView.extend({ drain: drainView.nullable() }) },
        404: notFoundDoc,
      },
    },
    async ({ params }, _req, res) => {
      const row = await sqlOne(deps.orm, NODE_WITH_DRAIN, [params.id]);
      if (!row) throw notFound('node_not_found');
      const drain = row.drain_state
        ? {
            state: row.drain_state,
            workflow_id: row.drain_workflow_id,
            reason: row.drain_reason,
            moved: row.drain_moved,
            remaining: row.drain_state === 'done' ? 0 : row.drain_remaining,
            failed: row.drain_failed,
            last_error: row.drain_last_error ?? null,
            started_at: new Date(row.drain_started_at).toISOString(),
            finished_at: row.drain_finished_at ? new Date(row.drain_finished_at).toISOString() : null,
          }
        : null;
      res.json({ ...toNodeView(row), drain });
    },
  );

  routes.add(
    {
      ...common,
      method: 'post',
      path: '/api/v1/admin/nodes/:id/drain',
      summary:
        'Drain a node: out of selection, every access moved to another node of its location (users told once), then the node is disabled. A second request while one runs answers the running one.',
      params: nodeIdParams,
      responses: {
        202: { description: 'The drain runs', schema: z.object({ workflow_id: z.string() }) },
        404: notFoundDoc,
        409: {
          description: '`node_disabled`: the node is disabled and carries no access',
          schema: errorBody,
        },
      },
    },
    async ({ params }, _req, res) => {
      const what = { action: 'node.drain', target: `node:${params.id}` };
      const workflowId = await audited(deps, res, what, async () => {
        const node = await sqlOne(
          deps.orm,
          `select n.status, n.name, n.location, d.state, (select count(*) from subscriptions s where s.node_id = n.id and s.status = 'active')::int as active
             from vpn_nodes n left join node_drains d on d.node_id = n.id where n.id = ?`,
          [params.id],
        );
        if (!node) throw notFound('node_not_found');
        if (node.status === 'disabled' && node.state !== 'running' && node.active === 0)
          throw new HttpError(409, 'node_disabled', 'the node is disabled already; nothing to drain');
        const summary = drainSummary({
          nodeId: params.id,
          nodeName: node.name,
          location: node.location,
          reason: 'admin',
          by: adminIdentity(res),
        });
        const input: DrainInput = { nodeId: params.id, reason: 'admin', summary };
        const handle = await deps.temporal.workflow.start(DRAIN_WORKFLOW_TYPE, {
          workflowId: drainWorkflowId(params.id),
          taskQueue: deps.config.PURCHASES_TASK_QUEUE,
          args: [input],
          staticSummary: summary,
          // One drain per node: a second request gets the running one.
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
        return handle.workflowId;
      });
      res.status(202).json({ workflow_id: workflowId });
    },
  );
}
