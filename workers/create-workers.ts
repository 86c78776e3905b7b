import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { TASK_QUEUES } from '../infra/temporal';
import { type WorkerDeps, purchaseActivities, telegramActivities } from './activities';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  /** A prebuilt bundle in production; source path (bundled at start) in dev and tests. */
  workflows: { workflowBundle: { codePath: string } } | { workflowsPath: string };
  telegramRatePerSecond: number;
  /** Tests give each suite its own queues so suites never steal each other's tasks. */
  taskQueues?: { purchases: string; telegram: string };
  /** Tests shut down without waiting for sleeping workflows. */
  shutdownGraceTime?: string;
}

/** The two workers of the system: purchases (workflows + most activities) and telegram (rate-limited sends). */
export async function createWorkers(setup: WorkerSetup, deps: WorkerDeps): Promise<Worker[]> {
  const queues = setup.taskQueues ?? TASK_QUEUES;
  const common: Partial<WorkerOptions> = { connection: setup.connection, namespace: setup.namespace };
  const purchases = await Worker.create({
    ...common,
    ...setup.workflows,
    taskQueue: queues.purchases,
    activities: purchaseActivities(deps),
    // Sleeping subscriptions need not stay in memory; the cache holds the busy ones.
    maxCachedWorkflows: 500,
    maxConcurrentActivityTaskExecutions: 50,
    maxConcurrentWorkflowTaskExecutions: 20,
  });
  if (!deps.telegram) return [purchases];
  const telegram = await Worker.create({
    ...common,
    taskQueue: queues.telegram,
    activities: telegramActivities({ ...deps, telegram: deps.telegram }),
    // Telegram's global limit is enforced by the Temporal server across all workers of this queue.
    maxTaskQueueActivitiesPerSecond: setup.telegramRatePerSecond,
    // The same limit per worker smooths the burst the server-side limiter lets through after an idle spell.
    maxActivitiesPerSecond: setup.telegramRatePerSecond,
    maxConcurrentActivityTaskExecutions: 50,
  });
  return [purchases, telegram];
}
