import { existsSync } from 'node:fs';
import path from 'node:path';
import { WorkflowIdConflictPolicy } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { loadConfigOrExit } from '../infra/config';
import { openOrm } from '../infra/db/orm';
import { ensureReconcileForAllNodes } from '../infra/nodes/reconcile-start';
import { createLogger } from '../infra/logger';
import { breakerAlert, createOpsAlerter } from '../infra/ops-alerts';
import { createTelegramSender } from '../infra/telegram/sender';
import { connectClient, connectWorker, registerSearchAttributes } from '../infra/temporal';
import { breakerSettingsFrom, createBreakers, watchOutcomes } from '../infra/circuit-breaker';
import { yooKassaClientFromConfig } from '../infra/yookassa/from-config';
import { OPS_WATCH_WORKFLOW_TYPE, opsWatchWorkflowId } from '../workflows/ops-alert-messages';
import { NODE_HEALTH_WORKFLOW_TYPE, nodeHealthWorkflowId } from '../workflows/node-health';
import { QUOTA_CHECK_WORKFLOW_TYPE, quotaCheckWorkflowId } from '../workflows/quota';
import { telegramQueueFor } from '../workflows/telegram-queue';
import { createWorkers } from './create-workers';
import { startWorkerMetrics } from './metrics';

const logger = createLogger('worker');

/** Prebuilt bundle (production image) if present; otherwise bundle the sources at start (dev). */
function workflowSource(bundlePath: string | undefined) {
  // Compiled: dist/workers/main.js → dist/workflow-bundle.js. From source: workers/main.ts → dist/workflow-bundle.js.
  const candidates = bundlePath
    ? [bundlePath]
    : [
        path.resolve(__dirname, '..', 'workflow-bundle.js'),
        path.resolve(__dirname, '..', 'dist', 'workflow-bundle.js'),
      ];
  const found = candidates.find((c) => existsSync(c));
  if (found) return { workflowBundle: { codePath: found } };
  return { workflowsPath: require.resolve('../workflows') };
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  if (config.WORKER_METRICS_PORT > 0) {
    // Temporal's own worker metrics (task latencies, slots, polls) next to ours.
    Runtime.install({
      telemetryOptions: {
        metrics: { prometheus: { bindAddress: `0.0.0.0:${config.WORKER_METRICS_PORT + 1}` } },
      },
    });
  }
  const orm = await openOrm(config.DATABASE_URL, { pool: config.DATABASE_POOL_MAX });
  const temporal = await connectClient(config);
  await registerSearchAttributes(temporal, config.TEMPORAL_NAMESPACE);
  const connection = await connectWorker(config);
  const metrics = await startWorkerMetrics(config.WORKER_METRICS_PORT);
  // Every provider call's outcome feeds the shared circuit breakers (the API reads them).
  const alerts = {
    chatId: config.ADMIN_ALERT_CHAT_ID ?? null,
    repeatMs: config.ALERT_REPEAT,
    taskQueue: config.PURCHASES_TASK_QUEUE,
  };
  const alerter = createOpsAlerter({ orm, temporal, logger, settings: alerts, onAlert: metrics.hooks.alert });
  const breakers = createBreakers(orm, breakerSettingsFrom(config), {
    logger,
    onOpen: breakerAlert(alerter, logger),
  });
  const yookassaClient = yooKassaClientFromConfig(config);
  const yookassa = yookassaClient && watchOutcomes(yookassaClient, 'yookassa', breakers);
  if (!yookassa) logger.warn('YOOKASSA_SHOP_ID is not set: card payments are refused');
  const telegram = config.BOT_TOKEN
    ? watchOutcomes(
        createTelegramSender({ apiRoot: config.TELEGRAM_API_ROOT, botToken: config.BOT_TOKEN }),
        'telegram',
        breakers,
      )
    : null;
  if (!telegram)
    logger.warn(
      'BOT_TOKEN is not set: notifications stay queued on the telegram task queue until a worker with it runs',
    );
  const queues = {
    purchases: config.PURCHASES_TASK_QUEUE,
    telegram: telegramQueueFor(config.PURCHASES_TASK_QUEUE),
  };
  const workers = await createWorkers(
    {
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      workflows: workflowSource(config.WORKFLOW_BUNDLE_PATH),
      telegramRatePerSecond: config.TELEGRAM_RATE_PER_SECOND,
      broadcastRatePerSecond: config.BROADCAST_RATE_PER_SECOND,
      taskQueues: queues,
      tuning: {
        cachedWorkflows: config.WORKER_CACHED_WORKFLOWS,
        activityConcurrency: config.WORKER_ACTIVITY_CONCURRENCY,
      },
    },
    {
      orm,
      temporal,
      yookassa,
      telegram,
      logger,
      metrics: metrics.hooks,
      alerts,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      returnUrl: config.YOOKASSA_RETURN_URL ?? config.PUBLIC_BASE_URL,
      remindBeforeMs: config.REMIND_BEFORE,
      autoRenew: {
        beforeMs: config.AUTO_RENEW_BEFORE,
        retries: config.AUTO_RENEW_RETRIES,
        starsRenewalHoldMs: config.STARS_RENEWAL_HOLD,
      },
      growth: {
        referralBonusDays: config.REFERRAL_BONUS_DAYS,
        referralWelcomeDays: config.REFERRAL_WELCOME_DAYS,
        botUsername: config.BOT_USERNAME,
        nodeWaitLimitMs: config.NODE_WAIT_LIMIT,
      },
      fleet: { deadMigrateAfterMs: config.NODE_DEAD_MIGRATE_AFTER },
    },
  );
  // One durable health/reconcile loop per deployment; starting it again is a no-op.
  await temporal.workflow.start(NODE_HEALTH_WORKFLOW_TYPE, {
    workflowId: nodeHealthWorkflowId(config.PURCHASES_TASK_QUEUE),
    taskQueue: config.PURCHASES_TASK_QUEUE,
    args: [{ intervalMs: config.NODE_HEALTH_INTERVAL, failuresToDown: 3 }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
  // The traffic quota check (`quota-check-<queue>`): one per deployment, like node-health.
  await temporal.workflow.start(QUOTA_CHECK_WORKFLOW_TYPE, {
    workflowId: quotaCheckWorkflowId(config.PURCHASES_TASK_QUEUE),
    taskQueue: config.PURCHASES_TASK_QUEUE,
    args: [{ intervalMs: config.QUOTA_CHECK_INTERVAL }],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
  // The stuck-purchases watch, once per deployment like the health loop.
  await temporal.workflow.start(OPS_WATCH_WORKFLOW_TYPE, {
    workflowId: opsWatchWorkflowId(config.PURCHASES_TASK_QUEUE),
    taskQueue: config.PURCHASES_TASK_QUEUE,
    args: [
      {
        intervalMs: 60_000,
        stuckAfterMs: config.STUCK_PURCHASE_ALERT_AFTER,
        stuckAtLeast: config.STUCK_PURCHASE_ALERT_COUNT,
      },
    ],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticSummary: 'Ops watch: stuck purchases → admin chat',
  });
  // Each node's desired-state reconcile (`reconcile-<node id>`); new nodes get theirs from the admin API.
  await ensureReconcileForAllNodes(orm, temporal, {
    taskQueue: config.PURCHASES_TASK_QUEUE,
    intervalMs: config.NODE_HEALTH_INTERVAL,
  });
  logger.info({ queues }, 'worker started');
  const stop = () => {
    for (const w of workers) w.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await Promise.all(workers.map((w) => w.run()));
  await metrics.close();
  await orm.close();
  await connection.close();
  await temporal.connection.close();
  logger.info('worker stopped');
}

main().catch((err) => {
  logger.error({ err }, 'worker failed');
  process.exit(1);
});
