import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { TASK_QUEUES } from '../infra/temporal';
import { broadcastQueueFor } from '../workflows/broadcast-messages';
import { type WorkerDeps, broadcastActivities, purchaseActivities, telegramActivities } from './activities';
import { type WorkerTuning, purchasesWorkerSettings, telegramWorkerSettings } from './worker-settings';

export interface WorkerSetup {
  connection: NativeConnection;
  namespace: string;
  /** A prebuilt bundle in production; source path (bundled at start) in dev and tests. */
  workflows: { workflowBundle: { codePath: string } } | { workflowsPath: string };
  /** Telegram's global budget: the telegram queue gets it minus the broadcasts' share. */
  telegramRatePerSecond: number;
  /** The broadcasts' share of the budget (default a third), on their own queue so keys never wait behind them. */
  broadcastRatePerSecond?: number;
  /** Tests give each suite its own queues so suites never steal each other's tasks. */
  taskQueues?: { purchases: string; telegram: string; broadcasts?: string };
  /** Sticky cache and activity slots of the purchases worker (defaults in worker-settings.ts). */
  tuning?: WorkerTuning;
  /** Tests shut down without waiting for sleeping workflows. */
  shutdownGraceTime?: string;
}

/** The two workers of the system: purchases (workflows + most activities) and telegram (rate-limited sends). */
export async function createWorkers(setup: WorkerSetup, deps: WorkerDeps): Promise<Worker[]> {
  const queues: { purchases: string; telegram: string; broadcasts?: string } =
    setup.taskQueues ?? TASK_QUEUES;
  const common: Partial<WorkerOptions> = { connection: setup.connection, namespace: setup.namespace };
  const purchases = await Worker.create({
    ...common,
    ...setup.workflows,
    taskQueue: queues.purchases,
    activities: purchaseActivities(deps),
    ...purchasesWorkerSettings(setup.tuning),
  });
  if (!deps.telegram) return [purchases];
  const { keys, broadcasts } = splitTelegramBudget(setup.telegramRatePerSecond, setup.broadcastRatePerSecond);
  const telegram = await Worker.create({
    ...common,
    taskQueue: queues.telegram,
    activities: telegramActivities({ ...deps, telegram: deps.telegram }),
    // The keys' share of the budget (the broadcasts run on their own queue with the rest).
    ...telegramWorkerSettings(keys),
  });
  const broadcast = await Worker.create({
    ...common,
    taskQueue: queues.broadcasts ?? broadcastQueueFor(queues.purchases),
    activities: broadcastActivities({ ...deps, telegram: deps.telegram }),
    maxTaskQueueActivitiesPerSecond: broadcasts,
    maxActivitiesPerSecond: broadcasts,
    maxConcurrentActivityTaskExecutions: 20,
  });
  return [purchases, telegram, broadcast];
}

/**
 * One global Telegram budget, two queues: keys and reminders on `telegram`, broadcasts on `broadcasts`.
 * The two limits add up to the budget, so together they never exceed it, and a running broadcast never
 * puts a task in front of a key.
 */
export function splitTelegramBudget(
  total: number,
  broadcastShare?: number,
): { keys: number; broadcasts: number } {
  const broadcasts = Math.min(broadcastShare ?? total / 3, total / 2);
  return { keys: total - broadcasts, broadcasts };
}
