import { type ActivityOptions, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createTelegramActivities } from '../activities/telegram';

type TelegramActivities = ReturnType<typeof createTelegramActivities>;

const telegramOptions: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1h',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1m',
    nonRetryableErrorTypes: ['TelegramBlocked', 'TelegramRejected'],
  },
};

/** "purchases" → "telegram"; "purchases-<suffix>" → "telegram-<suffix>", so isolated deployments (and tests) pair up. */
export function telegramQueueFor(purchasesQueue: string): string {
  return purchasesQueue.replace(/^purchases/, 'telegram');
}

/** Notification activities on the rate-limited telegram queue that pairs with this workflow's queue. */
export function telegramActivities(): TelegramActivities {
  return proxyActivities<TelegramActivities>({
    ...telegramOptions,
    taskQueue: telegramQueueFor(workflowInfo().taskQueue),
  });
}
