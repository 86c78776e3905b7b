import { continueAsNew, patched, sleep, workflowInfo } from '@temporalio/workflow';
import { deadNodeDrains, nodeHealth as nodes } from './activity-options';

export interface NodeHealthInput {
  intervalMs: number;
  /** Consecutive failed checks before a node is marked down (and skipped by selection). */
  failuresToDown: number;
  /** Deadline of one node's check within a round (default 10 s); the others go on meanwhile. */
  perNodeTimeoutMs?: number;
}

export const NODE_HEALTH_WORKFLOW_ID = 'node-health';
export const NODE_HEALTH_WORKFLOW_TYPE = 'nodeHealthWorkflow';
/** One health loop per deployment, named after the queue it runs on. */
export const nodeHealthWorkflowId = (taskQueue: string) => `${NODE_HEALTH_WORKFLOW_ID}-${taskQueue}`;

/** Durable health check and reconcile loop: node status and client counts follow what the nodes really report. */
export async function nodeHealthWorkflow(input: NodeHealthInput): Promise<void> {
  for (let round = 0; round < 100; round++) {
    await nodes
      .checkNodes({ failuresToDown: input.failuresToDown, perNodeTimeoutMs: input.perNodeTimeoutMs })
      .catch(() => undefined);
    // NODE_DEAD_MIGRATE_AFTER (read by the activity, so a worker restart applies a new value): nodes down
    // that long are drained. Behind a patch: histories from before it replay without this step.
    if (patched('drain-dead-nodes'))
      await deadNodeDrains.drainDeadNodes({ taskQueue: workflowInfo().taskQueue }).catch(() => undefined);
    await sleep(input.intervalMs);
  }
  await continueAsNew<typeof nodeHealthWorkflow>(input); // keeps the history short forever
}
