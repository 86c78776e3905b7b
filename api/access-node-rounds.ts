import { nodesOfAccess } from '../infra/fleet/access-nodes';
import { reconcileNow } from '../infra/nodes/reconcile-start';
import type { ApiDeps } from './deps';

/**
 * A device added or removed changes the desired state of every node its access covers (ACCESS_NODES,
 * infra/fleet/access-nodes.ts), not only its home node: a reconcile round on each of the others, at once.
 * True when every node that is up confirmed its round; a node that is down gets the change from its own
 * reconcile when it answers again.
 */
export async function roundOnOtherNodes(
  deps: ApiDeps,
  subscriptionId: string,
  homeNodeId: string,
  timeoutMs = 10_000,
): Promise<boolean> {
  const others = (await nodesOfAccess(deps.orm, subscriptionId, deps.config.ACCESS_NODES)).filter(
    (n) => n.id !== homeNodeId && n.status === 'up',
  );
  const outcomes = await Promise.all(
    others.map(async (n) => {
      const o = await reconcileNow(
        deps.temporal,
        {
          nodeId: n.id,
          taskQueue: deps.config.PURCHASES_TASK_QUEUE,
          intervalMs: deps.config.NODE_HEALTH_INTERVAL,
        },
        timeoutMs,
      );
      if (!o.ok)
        deps.logger.warn({ nodeId: n.id, subscriptionId, error: o.error }, 'device round failed on a node');
      return o.ok;
    }),
  );
  return outcomes.every(Boolean);
}
