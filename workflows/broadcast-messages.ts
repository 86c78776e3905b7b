import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Contract: one workflow per broadcast, id `broadcast-<id>`. */
export const broadcastWorkflowId = (broadcastId: string) => `broadcast-${broadcastId}`;
export const BROADCAST_WORKFLOW_TYPE = 'broadcastWorkflow';

export type BroadcastState = 'running' | 'paused' | 'canceled' | 'completed';
/** What one recipient's send came to (its broadcast_deliveries row). */
export type DeliveryOutcome = 'sent' | 'failed' | 'blocked';

export interface BroadcastCounts {
  sent: number;
  failed: number;
  blocked: number;
}

export interface BroadcastProgress extends BroadcastCounts {
  state: BroadcastState;
  total: number;
}

export interface BroadcastInput {
  broadcastId: string;
  total: number;
  /** Carried across continue-as-new. */
  counts?: BroadcastCounts;
  paused?: boolean;
  /**
   * The static summary the API started it with: continue-as-new does not carry user metadata to the next run,
   * so each run repeats it in its current details.
   */
  summary?: string;
}

export const pauseBroadcastSignal = defineSignal('pauseBroadcast');
export const resumeBroadcastSignal = defineSignal('resumeBroadcast');
export const cancelBroadcastSignal = defineSignal('cancelBroadcast');
export const broadcastProgressQuery = defineQuery<BroadcastProgress>('progress');

/**
 * Task priority (lower goes first; the server's default is 3): broadcasts ask to yield. On its own this did
 * not put keys first on the dev server (Server 1.32, several pollers), so broadcasts also run on their own
 * queue with their own share of the budget (workers/create-workers.ts).
 */
export const BROADCAST_PRIORITY_KEY = 5;

/** "purchases" → "broadcasts"; "purchases-<suffix>" → "broadcasts-<suffix>" (like the telegram queue). */
export function broadcastQueueFor(purchasesQueue: string): string {
  return purchasesQueue.replace(/^purchases/, 'broadcasts');
}
