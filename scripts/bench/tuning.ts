import { parseConfig } from '../../infra/config';
import type { WorkerTuning } from '../../workers/worker-settings';

/**
 * The worker and pool settings of this run, read from the product's own variables (WORKER_CACHED_WORKFLOWS,
 * WORKER_ACTIVITY_CONCURRENCY, DATABASE_POOL_MAX) and validated as the product validates them, so an A/B
 * is `WORKER_ACTIVITY_CONCURRENCY=100 npm run bench` and the no-op baseline runs on the same settings.
 */
export function benchTuning(): { worker: WorkerTuning; dbPool: number } {
  const config = parseConfig({ ...process.env, DATABASE_URL: 'postgres://unused', NODE_ENV: 'development' });
  return {
    worker: {
      cachedWorkflows: config.WORKER_CACHED_WORKFLOWS,
      activityConcurrency: config.WORKER_ACTIVITY_CONCURRENCY,
    },
    dbPool: config.DATABASE_POOL_MAX,
  };
}
