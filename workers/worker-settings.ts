import type { WorkerOptions } from '@temporalio/worker';

/**
 * The tuning of the two workers, in one place so the bench's no-op baseline (scripts/bench/noop-shape.ts)
 * runs on exactly the settings the product does. Figures behind each number: README "Performance".
 */
export const PURCHASES_WORKER_SETTINGS = {
  // Sleeping subscriptions need not stay in memory; the cache holds the busy ones.
  maxCachedWorkflows: 500,
  maxConcurrentActivityTaskExecutions: 50,
  maxConcurrentWorkflowTaskExecutions: 20,
} satisfies Partial<WorkerOptions>;

export function telegramWorkerSettings(ratePerSecond: number): Partial<WorkerOptions> {
  return {
    // Telegram's global limit is enforced by the Temporal server across all workers of this queue.
    maxTaskQueueActivitiesPerSecond: ratePerSecond,
    // The same limit per worker smooths the burst the server-side limiter lets through after an idle spell.
    maxActivitiesPerSecond: ratePerSecond,
    maxConcurrentActivityTaskExecutions: 50,
  };
}
