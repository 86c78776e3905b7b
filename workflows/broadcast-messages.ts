import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Contract: one workflow per broadcast, id `broadcast-<id>`. */
export const broadcastWorkflowId = (broadcastId: string) => `broadcast-${broadcastId}`;

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
}

export const pauseBroadcastSignal = defineSignal('pauseBroadcast');
export const resumeBroadcastSignal = defineSignal('resumeBroadcast');
export const cancelBroadcastSignal = defineSignal('cancelBroadcast');
export const broadcastProgressQuery = defineQuery<BroadcastProgress>('progress');

/**
 * Task priority on the shared telegram queue (lower goes first; the server's default is 3): purchase keys
 * and reminders keep the default, broadcasts yield to them.
 */
export const BROADCAST_PRIORITY_KEY = 5;
