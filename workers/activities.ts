import type { Client } from '@temporalio/client';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { createAdminActivities } from '../activities/admin';
import { createAutoRenewActivities } from '../activities/auto-renew';
import { createBroadcastActivities } from '../activities/broadcast';
import { createBalanceActivities } from '../activities/balance';
import { createDatabaseActivities } from '../activities/database';
import { createFleetActivities } from '../activities/fleet';
import { createFreeAccessActivities } from '../activities/free-access';
import { createLifetimeActivities } from '../activities/lifetime';
import { createNodeActivities, type NodeDeps } from '../activities/nodes';
import { createPaymentActivities } from '../activities/payments';
import { createQuotaActivities } from '../activities/quota';
import { createPlanChangeActivities } from '../activities/plan-change';
import { createGiftActivities } from '../activities/gifts';
import { createGrantActivities, createReferralActivities } from '../activities/referrals';
import { createRefundActivities } from '../activities/refunds';
import { createOpsAlertActivities, createOpsWatchActivities } from '../activities/ops-alerts';
import { withReferralClawback } from '../activities/referral-clawback';
import { createTelegramActivities } from '../activities/telegram';
import { createStarsSubscriptionActivities } from '../activities/stars-subscriptions';
import { createOpsAlerter, type OpsAlerter, type OpsAlertSettings } from '../infra/ops-alerts';
import type { TelegramSender } from '../infra/telegram/sender';
import type { YooKassaClient } from '../infra/yookassa/client';

export interface WorkerDeps {
  orm: MikroORM;
  temporal: Client;
  yookassa: YooKassaClient | null;
  telegram: TelegramSender | null;
  logger: Logger;
  publicBaseUrl: string;
  returnUrl: string;
  remindBeforeMs: number[];
  /** AUTO_RENEW_BEFORE (ms), AUTO_RENEW_RETRIES and STARS_RENEWAL_HOLD (ms). */
  autoRenew?: { beforeMs: number; retries: number; starsRenewalHoldMs?: number };
  driverFor?: NodeDeps['driverFor'];
  /** Referrals and gifts: REFERRAL_BONUS_DAYS (default 7), REFERRAL_WELCOME_DAYS (0), BOT_USERNAME, NODE_WAIT_LIMIT. */
  growth?: {
    referralBonusDays?: number;
    referralWelcomeDays?: number;
    botUsername?: string;
    nodeWaitLimitMs?: number;
  };
  /** ADMIN_ALERT_CHAT_ID, ALERT_REPEAT and the purchases queue; absent: alerts are log lines and metrics. */
  alerts?: OpsAlertSettings;
  /** NODE_DEAD_MIGRATE_AFTER in ms (0 or absent: off). */
  fleet?: { deadMigrateAfterMs?: number };
  metrics?: {
    alert(kind: string): void;
    keyDelivered(seconds: number): void;
    telegramError(code: string): void;
  };
}

/** Activities of the `purchases` queue: payments, database, nodes, lifetimes. */
export function purchaseActivities(d: WorkerDeps) {
  // A refund that claws back a referral bonus also moves the referrer's lifetime end (and revokes if it ended).
  return withReferralClawback(purchaseActivityMap(d), { orm: d.orm, logger: d.logger });
}

function purchaseActivityMap(d: WorkerDeps) {
  return {
    ...createPaymentActivities({
      orm: d.orm,
      yookassa: d.yookassa,
      telegram: d.telegram,
      returnUrl: d.returnUrl,
      logger: d.logger,
    }),
    ...createDatabaseActivities({
      orm: d.orm,
      logger: d.logger,
      onAlert: d.metrics?.alert,
      onKeyDelivered: d.metrics?.keyDelivered,
      alerter: opsAlerterOf(d),
      starsRenewalHoldMs: d.autoRenew?.starsRenewalHoldMs,
    }),
    ...createNodeActivities({
      orm: d.orm,
      driverFor: d.driverFor,
      onNodeTransition: async ({ id, name, to, error }) =>
        opsAlerterOf(d)?.raise({
          kind: `node_${to}`,
          key: `node_${to}:${id}`,
          detail:
            to === 'down' ? `node ${name} is down: ${error ?? 'no answer'}` : `node ${name} is up again`,
        }),
    }),
    ...createBalanceActivities({ orm: d.orm, logger: d.logger }),
    ...createStarsSubscriptionActivities({ orm: d.orm, telegram: d.telegram, logger: d.logger }),
    ...createRefundActivities({ orm: d.orm, yookassa: d.yookassa, telegram: d.telegram, logger: d.logger }),
    ...createLifetimeActivities({
      orm: d.orm,
      temporal: d.temporal,
      remindBeforeMs: d.remindBeforeMs,
      autoRenew: d.autoRenew,
    }),
    ...createAutoRenewActivities({
      orm: d.orm,
      logger: d.logger,
      remindBeforeMs: d.remindBeforeMs,
      nodeWaitLimitMs: d.growth?.nodeWaitLimitMs,
    }),
    ...createFreeAccessActivities({ orm: d.orm, logger: d.logger }),
    ...createGrantActivities({ orm: d.orm }),
    ...createGiftActivities({ orm: d.orm, temporal: d.temporal, logger: d.logger }),
    ...createReferralActivities({
      orm: d.orm,
      temporal: d.temporal,
      logger: d.logger,
      bonusDays: d.growth?.referralBonusDays ?? 7,
      welcomeDays: d.growth?.referralWelcomeDays ?? 0,
      nodeWaitLimitMs: d.growth?.nodeWaitLimitMs ?? 30 * 60_000,
    }),
    ...createAdminActivities({ orm: d.orm, temporal: d.temporal }),
    ...createBroadcastActivities({ orm: d.orm, logger: d.logger }),
    ...createQuotaActivities({ orm: d.orm, logger: d.logger, driverFor: d.driverFor }),
    ...createPlanChangeActivities({ orm: d.orm, logger: d.logger }),
    ...createOpsWatchActivities({ temporal: d.temporal, alerter: opsAlerterOf(d) }),
    ...createFleetActivities({
      orm: d.orm,
      logger: d.logger,
      driverFor: d.driverFor,
      temporal: d.temporal,
      deadMigrateAfterMs: d.fleet?.deadMigrateAfterMs,
      alerter: opsAlerterOf(d),
    }),
  };
}

/** The worker's alerter; stateless (its windows live in PostgreSQL), so any number of copies agree. */
export function opsAlerterOf(d: WorkerDeps): OpsAlerter | undefined {
  if (!d.alerts) return undefined;
  return createOpsAlerter({
    orm: d.orm,
    temporal: d.temporal,
    logger: d.logger,
    settings: d.alerts,
    onAlert: d.metrics?.alert,
  });
}

/** Activities of the `telegram` queue. */
export function telegramActivities(d: WorkerDeps & { telegram: TelegramSender }) {
  return {
    ...telegramNotifications(d),
    ...createOpsAlertActivities({ sender: d.telegram, logger: d.logger }),
  };
}

function telegramNotifications(d: WorkerDeps & { telegram: TelegramSender }) {
  return createTelegramActivities({
    orm: d.orm,
    sender: d.telegram,
    publicBaseUrl: d.publicBaseUrl,
    logger: d.logger,
    onSendError: d.metrics?.telegramError,
    botUsername: d.growth?.botUsername,
  });
}

/** Activities of the `broadcasts` queue: one send per recipient, on the broadcasts' share of the budget. */
export function broadcastActivities(d: WorkerDeps & { telegram: TelegramSender }) {
  return createBroadcastActivities({
    orm: d.orm,
    sender: d.telegram,
    logger: d.logger,
    onSendError: d.metrics?.telegramError,
  });
}
