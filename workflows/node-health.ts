import { continueAsNew, proxyActivities, sleep } from '@temporalio/workflow';
import type { createNodeActivities } from '../activities/nodes';

export interface NodeHealthInput {
  intervalMs: number;
  /** Consecutive failed checks before a node is marked down (and skipped by selection). */
  failuresToDown: number;
  /** Deadline of one node's check within a round (default 10 s); the others go on meanwhile. */
  perNodeTimeoutMs?: number;
}

// Only timeouts changed over time (no command order): histories replay unchanged. The activity
// heartbeats about once a second, so a worker that died mid-round is noticed in 30 s, not 2 min.
const nodes = proxyActivities<ReturnType<typeof createNodeActivities>>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '5s', maximumAttempts: 3 },
});

export const NODE_HEALTH_WORKFLOW_ID = 'node-health';

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
