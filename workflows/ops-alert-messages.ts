/** Ids and types of the ops-alert workflows (workflows/ops-alert.ts), shared with infra/ops-alerts.ts and the worker. */
export const OPS_ALERT_WORKFLOW_TYPE = 'opsAlertWorkflow';
export const OPS_WATCH_WORKFLOW_TYPE = 'opsWatchWorkflow';
export const OPS_WATCH_WORKFLOW_ID = 'ops-watch';

/** One delivery per alert key and throttle window: a retried raise after a crash finds the same id. */
export const opsAlertWorkflowId = (key: string, windowStart: Date) =>
  `ops-alert-${key}-${windowStart.getTime()}`;
export const opsWatchWorkflowId = (taskQueue: string) => `${OPS_WATCH_WORKFLOW_ID}-${taskQueue}`;

export interface OpsWatchInput {
  intervalMs: number;
  /** STUCK_PURCHASE_ALERT_AFTER and STUCK_PURCHASE_ALERT_COUNT. */
  stuckAfterMs: number;
  stuckAtLeast: number;
}
