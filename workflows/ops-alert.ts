import { continueAsNew, setCurrentDetails, sleep } from '@temporalio/workflow';
import { opsAlertDelivery, opsWatch } from './activity-options';
import type { OpsAlertMessage } from '../infra/ops-alerts';
import type { OpsWatchInput } from './ops-alert-messages';

/**
 * One ops alert to the admin chat (infra/ops-alerts.ts decides when; this only delivers). Its send goes
 * on the telegram queue, so alerts share the one global Telegram budget with keys and reminders.
 */
export async function opsAlertWorkflow(message: OpsAlertMessage): Promise<void> {
  const alerts = opsAlertDelivery();
  setCurrentDetails('waiting for the telegram queue to send it');
  await alerts.sendOpsAlert(message);
  setCurrentDetails('sent');
}

export type { OpsWatchInput } from './ops-alert-messages';

/** Durable watch for conditions no single workflow sees: purchases stuck in a stage. */
export async function opsWatchWorkflow(input: OpsWatchInput): Promise<void> {
  const watch = opsWatch;
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
