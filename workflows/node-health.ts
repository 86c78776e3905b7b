import { continueAsNew, sleep } from '@temporalio/workflow';
import { nodeHealth as nodes } from './activity-options';

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
    await sleep(input.intervalMs);
  }
  await continueAsNew<typeof nodeHealthWorkflow>(input); // keeps the history short forever
}
