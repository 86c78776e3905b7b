import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../../infra/temporal';
import type { freeAccessWorkflow } from '../../workflows/trial';
import { FREE_ACCESS_WORKFLOW_TYPE, type FreeAccessInput } from '../../workflows/trial-messages';
import type { ApiDeps } from '../deps';

/**
 * Starts the free-access workflow under its contract id. Once per grant: the database row decided that the
 * grant exists; a start that finds the workflow already running (a retried request) attaches to it.
 */
export async function startFreeAccess(
  deps: Pick<ApiDeps, 'config' | 'temporal'>,
  workflowId: string,
  input: FreeAccessInput,
): Promise<void> {
  await deps.temporal.workflow.start<typeof freeAccessWorkflow>(FREE_ACCESS_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: deps.config.PURCHASES_TASK_QUEUE ?? TASK_QUEUES.purchases,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.TelegramId, value: input.telegramId },
      { key: SEARCH_ATTRIBUTES.PurchaseStage, value: 'PROVISIONING' },
      { key: SEARCH_ATTRIBUTES.StageEnteredAt, value: new Date() },
    ],
  });
}
