import type { WorkerOptions } from '@temporalio/worker';

/** What an operator may tune (WORKER_CACHED_WORKFLOWS, WORKER_ACTIVITY_CONCURRENCY); the rest is fixed. */
export interface WorkerTuning {
  cachedWorkflows?: number;
  activityConcurrency?: number;
}

export const DEFAULT_WORKER_TUNING = { cachedWorkflows: 250, activityConcurrency: 50 } as const;

/**
 * The purchases worker's settings, in one place so the bench's no-op baseline (scripts/bench/noop-shape.ts)
 * runs on exactly the settings the product does. Figures behind each number: README "Performance".
 */
export function purchasesWorkerSettings(tuning: WorkerTuning = {}) {
  return {
    // Sleeping subscriptions need not stay in memory; the cache holds the busy ones. 250 against 500: 10k
    // sleeping, 471 against 574 MB RSS, and a 500-purchase burst no slower (README "Performance", P5 and P2).
    maxCachedWorkflows: tuning.cachedWorkflows ?? DEFAULT_WORKER_TUNING.cachedWorkflows,
    maxConcurrentActivityTaskExecutions:
      tuning.activityConcurrency ?? DEFAULT_WORKER_TUNING.activityConcurrency,
    maxConcurrentWorkflowTaskExecutions: 20,
  } satisfies Partial<WorkerOptions>;
}

export function telegramWorkerSettings(ratePerSecond: number): Partial<WorkerOptions> {
  return {
    // Telegram's global limit is enforced by the Temporal server across all workers of this queue.
    maxTaskQueueActivitiesPerSecond: ratePerSecond,
    // The same limit per worker smooths the burst the server-side limiter lets through after an idle spell.
    maxActivitiesPerSecond: ratePerSecond,
    maxConcurrentActivityTaskExecutions: 50,
  };
}
