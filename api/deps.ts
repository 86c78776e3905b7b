import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Breakers } from '../infra/circuit-breaker';
import type { Config } from '../infra/config';
import type { OpsAlerter } from '../infra/ops-alerts';
import type { Metrics } from '../infra/metrics';
import type { ReadPool } from '../infra/db/read-pool';
import type { YooKassaClient } from '../infra/yookassa/client';

export interface AppDeps {
  config: Config;
  orm: MikroORM;
  /** The hottest single-row reads (a redelivered webhook, /sub) skip the ORM's path (infra/db/read-pool.ts). */
  reads: ReadPool;
  temporal: Client;
  /** Null when YOOKASSA_SHOP_ID is not set: card payments answer 503. */
  yookassa: YooKassaClient | null;
  logger: Logger;
  /** Created by createApp when not given; tests pass their own to read it. */
  metrics?: Metrics;
  /** Circuit breakers shared with the workers (PostgreSQL); created by createApp when not given. */
  breakers?: Breakers;
  /** Ops alerts to ADMIN_ALERT_CHAT_ID (infra/ops-alerts.ts); created by createApp when not given. */
  alerts?: OpsAlerter;
}

export type ApiDeps = AppDeps & { metrics: Metrics; breakers: Breakers; alerts: OpsAlerter };
