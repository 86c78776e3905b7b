import type { Metrics } from '../infra/metrics';
import { createOpsAlerter, DEFAULT_ALERT_REPEAT_MS, type OpsAlerter } from '../infra/ops-alerts';
import { TASK_QUEUES } from '../infra/temporal';
import type { AppDeps } from './deps';

/** The API's alerter: MONEY ALARMs and provider breakers opening, to ADMIN_ALERT_CHAT_ID. */
export function apiOpsAlerter(deps: AppDeps, metrics: Metrics): OpsAlerter {
  return createOpsAlerter({
    orm: deps.orm,
    temporal: deps.temporal,
    logger: deps.logger,
    settings: {
      chatId: deps.config.ADMIN_ALERT_CHAT_ID ?? null,
      repeatMs: deps.config.ALERT_REPEAT ?? DEFAULT_ALERT_REPEAT_MS,
      taskQueue: deps.config.PURCHASES_TASK_QUEUE ?? TASK_QUEUES.purchases,
    },
    onAlert: (kind) => metrics.opsAlerts.inc({ kind }),
  });
}
