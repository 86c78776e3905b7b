import type { Client } from '@temporalio/client';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { createBalanceActivities } from '../activities/balance';
import { createDatabaseActivities } from '../activities/database';
import { createLifetimeActivities } from '../activities/lifetime';
import { createNodeActivities, type NodeDeps } from '../activities/nodes';
import { createPaymentActivities } from '../activities/payments';
import { createRefundActivities } from '../activities/refunds';
import { createTelegramActivities } from '../activities/telegram';
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
  driverFor?: NodeDeps['driverFor'];
  metrics?: {
    alert(kind: string): void;
    keyDelivered(seconds: number): void;
    telegramError(code: string): void;
  };
}

/** Activities of the `purchases` queue: payments, database, nodes, lifetimes. */
export function purchaseActivities(d: WorkerDeps) {
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
    }),
    ...createNodeActivities({ orm: d.orm, driverFor: d.driverFor }),
    ...createBalanceActivities({ orm: d.orm, logger: d.logger }),
    ...createRefundActivities({ orm: d.orm, yookassa: d.yookassa, telegram: d.telegram, logger: d.logger }),
    ...createLifetimeActivities({ orm: d.orm, temporal: d.temporal, remindBeforeMs: d.remindBeforeMs }),
  };
}

/** Activities of the `telegram` queue. */
export function telegramActivities(d: WorkerDeps & { telegram: TelegramSender }) {
  return createTelegramActivities({
    orm: d.orm,
    sender: d.telegram,
    publicBaseUrl: d.publicBaseUrl,
    logger: d.logger,
    onSendError: d.metrics?.telegramError,
  });
}
