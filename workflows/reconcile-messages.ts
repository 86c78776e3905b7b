import { defineUpdate } from '@temporalio/workflow';
import type { ReconcileResult } from '../activities/nodes';

export type { ReconcileResult };

/** One long-lived workflow per node keeps that node equal to the desired state. */
export const reconcileWorkflowId = (nodeId: string) => `reconcile-${nodeId}`;
export const RECONCILE_NODE_WORKFLOW_TYPE = 'reconcileNodeWorkflow';

export interface ReconcileInput {
  nodeId: string;
  /** A round runs at least this often, and at once when asked (reconcileNow). */
  intervalMs: number;
  /** How long an unknown client may stay on the node (see activities/nodes.ts). */
  strayGraceMs?: number;
}

/**
 * Runs a round that starts after this request (so it sees every row committed before it) and answers
 * that round's result; `ok: false` when the node could not be reached (the periodic rounds go on).
 */
export const reconcileNowUpdate = defineUpdate<ReconcileOutcome, []>('reconcileNow');

export type ReconcileOutcome = ({ ok: true } & ReconcileResult) | { ok: false; error: string };
