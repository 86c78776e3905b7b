import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { TASK_QUEUES } from '../infra/temporal';
import { type WorkerDeps, purchaseActivities, telegramActivities } from './activities';
import { PURCHASES_WORKER_SETTINGS, telegramWorkerSettings } from './worker-settings';

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
    ...PURCHASES_WORKER_SETTINGS,
  });
  if (!deps.telegram) return [purchases];
  const telegram = await Worker.create({
    ...common,
    taskQueue: queues.telegram,
    activities: telegramActivities({ ...deps, telegram: deps.telegram }),
    ...telegramWorkerSettings(setup.telegramRatePerSecond),
  });
  return [purchases, telegram];
}
