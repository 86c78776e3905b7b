import { continueAsNew, proxyActivities, setCurrentDetails, sleep, workflowInfo } from '@temporalio/workflow';
import type { createOpsAlertActivities, createOpsWatchActivities } from '../activities/ops-alerts';
import type { OpsAlertMessage } from '../infra/ops-alerts';
import { Failure } from './failures';
import { telegramQueueFor } from './telegram-queue';

type OpsAlertActivities = ReturnType<typeof createOpsAlertActivities>;
type OpsWatchActivities = ReturnType<typeof createOpsWatchActivities>;

/**
 * One ops alert to the admin chat (infra/ops-alerts.ts decides when; this only delivers). Its send goes
 * on the telegram queue, so alerts share the one global Telegram budget with keys and reminders.
 */
export async function opsAlertWorkflow(message: OpsAlertMessage): Promise<void> {
  const alerts = proxyActivities<OpsAlertActivities>({
    taskQueue: telegramQueueFor(workflowInfo().taskQueue),
    startToCloseTimeout: '30s',
    // An alert is worth a day of Telegram outage; a chat that refuses it is final (logged by the activity).
    scheduleToCloseTimeout: '24h',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '5m',
      nonRetryableErrorTypes: [Failure.TelegramRejected],
    },
  });
  setCurrentDetails('waiting for the telegram queue to send it');
  await alerts.sendOpsAlert(message);
  setCurrentDetails('sent');
}

export interface OpsWatchInput {
  intervalMs: number;
  /** STUCK_PURCHASE_ALERT_AFTER and STUCK_PURCHASE_ALERT_COUNT. */
  stuckAfterMs: number;
  stuckAtLeast: number;
}

export const OPS_WATCH_WORKFLOW_ID = 'ops-watch';

/** Durable watch for conditions no single workflow sees: purchases stuck in a stage. */
export async function opsWatchWorkflow(input: OpsWatchInput): Promise<void> {
  const watch = proxyActivities<OpsWatchActivities>({
    startToCloseTimeout: '1m',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 3 },
  });
  for (let round = 0; round < 200; round++) {
    setCurrentDetails('checking for stuck purchases');
    const { count } = await watch
      .checkStuckPurchases({ olderThanMs: input.stuckAfterMs, atLeast: input.stuckAtLeast })
      .catch(() => ({ count: -1 }));
    setCurrentDetails(
      `${count < 0 ? 'last check failed' : `${count} stuck purchase(s)`}; next check in ${Math.round(input.intervalMs / 1000)} s`,
    );
    await sleep(input.intervalMs);
  }
  await continueAsNew<typeof opsWatchWorkflow>(input); // keeps the history short forever
}
