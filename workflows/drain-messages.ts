import { defineQuery } from '@temporalio/workflow';

// The drain of one node (`drain-<node id>`): shared by the workflow, its activities, the API and tests.

export const DRAIN_WORKFLOW_TYPE = 'drainNodeWorkflow';
export const drainWorkflowId = (nodeId: string) => `drain-${nodeId}`;

export interface DrainInput {
  nodeId: string;
  /** Who asked: an operator (`admin`) or NODE_DEAD_MIGRATE_AFTER (`dead`). */
  reason?: 'admin' | 'dead';
  /** Pause between two moves: the bounded rate (default 200 ms, about 5 accesses a second). */
  moveIntervalMs?: number;
  /** Accesses read per batch (default 20). */
  batchSize?: number;
  /** History length after which the run continues as new (default 400 events). */
  historyLimit?: number;
  /** Set by continue-as-new: the drain began in an earlier run. */
  resumed?: boolean;
  /** Its static summary (workflows/summaries.ts): continue-as-new drops user metadata, the details repeat it. */
  summary?: string;
}

export type DrainState = 'running' | 'done' | 'failed';

export interface DrainProgress {
  state: DrainState;
  moved: number;
  remaining: number;
  failed: number;
}

export type MoveOutcome =
  | { outcome: 'moved'; toNodeId: string; telegramId: string; language: string }
  | { outcome: 'failed'; error: string }
  | { outcome: 'gone' };

export const drainProgressQuery = defineQuery<DrainProgress>('drainProgress');
