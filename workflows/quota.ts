import { continueAsNew, sleep, workflowInfo } from '@temporalio/workflow';
import { quotaNodes, quotaRound, quotaTelegram } from './activity-options';
import { Failure, failureType } from './failures';

/**
 * One durable quota check per deployment (`quota-check-<task queue>`, like node-health): every
 * QUOTA_CHECK_INTERVAL it collects the nodes' counters, enforces the limits in PostgreSQL, and works
 * through the notice outbox: a used-up access is taken off every node, then told once; a reset or
 * restored one is put back, then told. A notice stays in the outbox until handled, so a crash or a
 * Telegram outage only delays it to a later round (the notification key keeps it to one message).
 */
export const QUOTA_CHECK_WORKFLOW_ID = 'quota-check';
export const QUOTA_CHECK_WORKFLOW_TYPE = 'quotaCheckWorkflow';
export const quotaCheckWorkflowId = (taskQueue: string) => `${QUOTA_CHECK_WORKFLOW_ID}-${taskQueue}`;

export interface QuotaCheckInput {
  intervalMs: number;
}

const ROUNDS_BEFORE_CONTINUE = 100;

/** Errors after which a message will never go out (blocked bot, refused message): the notice is done. */
const FINAL_TELEGRAM = [Failure.TelegramBlocked, Failure.TelegramRejected] as string[];

export async function quotaCheckWorkflow(input: QuotaCheckInput): Promise<void> {
  for (let round = 0; round < ROUNDS_BEFORE_CONTINUE; round++) {
    await quotaRound.collectUsage().catch(() => undefined);
    const result = await quotaRound.enforceQuota().catch(() => undefined);
    const pending = result?.pending ?? [];
    // Nodes first (the tunnel stops before the user reads why), every access at once; then the messages,
    // at once too (the telegram queue paces them), so one slow Telegram call holds up no other notice.
    await Promise.all(
      pending.map((n) =>
        (n.kind === 'traffic_exhausted'
          ? quotaNodes.cutOffAccess({ subscriptionId: n.subscriptionId })
          : quotaNodes.restoreAccess({ subscriptionId: n.subscriptionId })
        ).catch(() => undefined),
      ),
    );
    await Promise.all(
      pending.map(async (n) => {
        const told = await quotaTelegram()
          .notify({
            kind: n.kind,
            telegramId: n.telegramId,
            language: n.language,
            subscriptionId: n.subscriptionId,
            noticeId: n.id,
          })
          .then(
            () => true,
            (err) => FINAL_TELEGRAM.includes(failureType(err) ?? ''),
          );
        if (told) await quotaRound.markNoticeDone({ id: n.id }).catch(() => undefined);
      }),
    );
    await sleep(input.intervalMs);
    if (workflowInfo().continueAsNewSuggested) break; // a big round of notices: keep the history short
  }
  await continueAsNew<typeof quotaCheckWorkflow>(input);
}
