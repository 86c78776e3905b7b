import type { MikroORM } from '@mikro-orm/postgresql';
import { type Client, WithStartWorkflowOperation } from '@temporalio/client';
import type { reconcileNodeWorkflow } from '../../workflows/reconcile';
import {
  type ReconcileOutcome,
  reconcileNowUpdate,
  reconcileWorkflowId,
  RECONCILE_NODE_WORKFLOW_TYPE,
} from '../../workflows/reconcile-messages';

export interface ReconcileTarget {
  nodeId: string;
  taskQueue: string;
  /** The periodic round (NODE_HEALTH_INTERVAL). */
  intervalMs: number;
}

function operation(t: ReconcileTarget) {
  return new WithStartWorkflowOperation<typeof reconcileNodeWorkflow>(RECONCILE_NODE_WORKFLOW_TYPE, {
    workflowId: reconcileWorkflowId(t.nodeId),
    taskQueue: t.taskQueue,
    args: [{ nodeId: t.nodeId, intervalMs: t.intervalMs }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

/**
 * Runs a reconcile round on the node now (starting its `reconcile-<node id>` workflow if none runs) and
 * answers that round's outcome; `{ok: false}` also when it takes longer than `timeoutMs`.
 */
export async function reconcileNow(
  client: Client,
  t: ReconcileTarget,
  timeoutMs = 15_000,
): Promise<ReconcileOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<ReconcileOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: 'timeout' }), timeoutMs);
  });
  try {
    return await Promise.race([
      client.workflow.executeUpdateWithStart(reconcileNowUpdate, { startWorkflowOperation: operation(t) }),
      late,
    ]);
  } catch (err) {
    return { ok: false, error: String((err as Error).message).slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

/** Makes sure the node's reconcile workflow runs (a no-op when it does). */
export async function ensureReconcile(client: Client, t: ReconcileTarget): Promise<void> {
  const op = operation(t);
  await client.workflow.start(RECONCILE_NODE_WORKFLOW_TYPE, { ...op.options, args: op.options.args });
}

/**
 * Starts the reconcile workflow of every node that is not disabled (the worker does it at start), so
 * each node is kept equal to the desired state every `intervalMs` without anyone asking.
 */
export async function ensureReconcileForAllNodes(
  orm: MikroORM,
  client: Client,
  opts: { taskQueue: string; intervalMs: number },
): Promise<number> {
  const rows = await orm.em.getConnection().execute(`select id from vpn_nodes where status <> 'disabled'`);
  for (const r of rows) await ensureReconcile(client, { nodeId: String(r.id), ...opts });
  return rows.length;
}
