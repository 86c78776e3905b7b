import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WithStartWorkflowOperation, WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createLogger } from '../logger';
import { seedTariffs } from '../db/seed';
import { type NodeConnection, type NodeDriver, createNodeDriver } from '../nodes';
import { createTelegramSender } from '../telegram/sender';
import { createYooKassaClient, type YooKassaClient } from '../yookassa/client';
import { type YooKassaEmulator, startYooKassaEmulator } from '../yookassa/emulator';
import { bundleWorkflows } from '../../scripts/bundle-workflows';
import type { WorkerDeps } from '../../workers/activities';
import { createWorkers } from '../../workers/create-workers';
import type { WorkerTuning } from '../../workers/worker-settings';
import {
  type PaymentLink,
  type Provider,
  type PurchaseInput,
  PURCHASE_WORKFLOW_TYPE,
  paymentLinkUpdate,
  purchaseWorkflowId,
} from '../../workflows/purchase-messages';
import { telegramQueueFor } from '../../workflows/telegram-queue';
import { type RunningAgent, startAgent } from './agent';
import { freshDatabase, temporalServer } from './services';
import { type TelegramEmulator, startTelegramEmulator } from './telegram-emulator';
import { type Closeable, type XrayServer, startTlsTarget, startXrayServer } from './xray';

let bundlePath: Promise<string> | undefined;
/** Bundled once per run: every worker of every suite loads the same real workflow code. */
export function workflowBundle(): Promise<string> {
  bundlePath ??= bundleWorkflows(
    path.join(mkdtempSync(path.join(os.tmpdir(), 'vpn-bundle-')), 'workflows.js'),
  );
  return bundlePath;
}

export interface SystemOptions {
  remindBeforeMs?: number[];
  paymentTimeoutMs?: number;
  nodeWaitLimitMs?: number;
  /** Wraps the real node driver, e.g. to inject failures. */
  wrapDriver?: (driver: NodeDriver) => NodeDriver;
  withNode?: boolean;
  /** Wraps the workers' YooKassa client, e.g. to feed the circuit breakers as workers/main.ts does. */
  wrapYooKassa?: (client: YooKassaClient, orm: MikroORM) => YooKassaClient;
  /** Referral and gift settings of the workers (REFERRAL_BONUS_DAYS, BOT_USERNAME, ...). */
  growth?: WorkerDeps['growth'];
  /** AUTO_RENEW_BEFORE / AUTO_RENEW_RETRIES of the workers (short in tests). */
  autoRenew?: WorkerDeps['autoRenew'];
  /** The telegram queue's limit (TELEGRAM_RATE_PER_SECOND); 15, the product's default, unless a bench sweeps it. */
  telegramRatePerSecond?: number;
  /** WORKER_CACHED_WORKFLOWS / WORKER_ACTIVITY_CONCURRENCY of the purchases worker (the bench's A/B). */
  tuning?: WorkerTuning;
  /** ADMIN_ALERT_CHAT_ID and ALERT_REPEAT of the workers (ops alerts to the admin chat). */
  alerts?: { chatId: string; repeatMs: number };
}

/**
 * Everything a purchase touches, real where it can run here: PostgreSQL, Temporal, Xray + node agent;
 * emulated only for the SaaS we cannot reach (YooKassa, Telegram's servers).
 */
export class PurchaseSystem {
  readonly queue = `purchases-${randomBytes(4).toString('hex')}`;
  readonly shopId = '100500';
  readonly secretKey = `test_${randomBytes(8).toString('hex')}`;
  orm!: MikroORM;
  databaseUrl!: string;
  client!: Client;
  temporalAddress!: string;
  yookassa!: YooKassaEmulator;
  telegram!: TelegramEmulator;
  target?: Closeable;
  xray?: XrayServer;
  agent?: RunningAgent;
  nodeId?: string;
  private workers: Worker[] = [];
  private running: Promise<unknown>[] = [];
  private connection?: NativeConnection;

  constructor(readonly options: SystemOptions = {}) {}

  async start(): Promise<this> {
    const [db, env] = await Promise.all([freshDatabase(), temporalServer()]);
    this.orm = db.orm;
    this.databaseUrl = db.url;
    this.client = env.client;
    this.temporalAddress = env.address;
    await seedTariffs(this.orm);
    this.yookassa = await startYooKassaEmulator({
      shopId: this.shopId,
      secretKey: this.secretKey,
      webhookRetry: { maxAttempts: 3, initialDelayMs: 200 },
    });
    this.telegram = await startTelegramEmulator();
    if (this.options.withNode !== false) await this.addLocalNode();
    return this;
  }

  /** A real Xray (VLESS + Reality) node with its agent, registered like an operator would. */
  async addLocalNode(capacity = 100, location = 'nl'): Promise<string> {
    this.target = await startTlsTarget();
    this.xray = await startXrayServer({ targetPort: this.target.port });
    this.agent = await startAgent(this.xray);
    const [row] = await this.orm.em.getConnection().execute(
      `insert into vpn_nodes (name, host, port, location, country_code, capacity, driver, agent_url, agent_token,
         reality_public_key, reality_short_id, reality_server_name)
       values (?, '127.0.0.1', ?, ?, 'NL', ?, 'agent', ?, ?, ?, ?, ?) returning id`,
      [
        `node-${randomBytes(3).toString('hex')}`,
        this.xray.port,
        location,
        capacity,
        this.agent.url,
        this.agent.token,
        this.xray.publicKey,
        this.xray.shortId,
        this.xray.serverName,
      ],
    );
    this.nodeId = row.id;
    return row.id;
  }

  async startWorkers(): Promise<void> {
    this.connection ??= await NativeConnection.connect({ address: this.temporalAddress });
    const logger = createLogger('test-worker');
    const client = createYooKassaClient({
      apiUrl: this.yookassa.url,
      shopId: this.shopId,
      secretKey: this.secretKey,
      returnUrl: 'http://localhost/return',
      timeoutMs: 3000,
    });
    const yookassa = this.options.wrapYooKassa?.(client, this.orm) ?? client;
    const wrap = this.options.wrapDriver;
    this.workers = await createWorkers(
      {
        connection: this.connection,
        namespace: 'default',
        workflows: { workflowBundle: { codePath: await workflowBundle() } },
        telegramRatePerSecond: this.options.telegramRatePerSecond ?? 15,
        taskQueues: { purchases: this.queue, telegram: telegramQueueFor(this.queue) },
        tuning: this.options.tuning,
      },
      {
        orm: this.orm,
        temporal: this.client,
        yookassa,
        telegram: createTelegramSender({ apiRoot: this.telegram.url, botToken: this.telegram.token }),
        logger,
        publicBaseUrl: 'http://vpn.test',
        returnUrl: 'http://localhost/return',
        remindBeforeMs: this.options.remindBeforeMs ?? [2_000],
        driverFor: wrap ? (node: NodeConnection) => wrap(createNodeDriver(node)) : undefined,
        growth: this.options.growth,
        alerts: this.options.alerts && { ...this.options.alerts, taskQueue: this.queue },
        autoRenew: this.options.autoRenew,
      },
    );
    this.running = this.workers.map((w) => w.run());
  }

  async stopWorkers(): Promise<void> {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(this.running);
    this.workers = [];
  }

  async createUser(telegramId: number, language = 'en'): Promise<string> {
    const [row] = await this.orm.em
      .getConnection()
      .execute(
        `insert into users (telegram_id, language) values (?, ?) on conflict (telegram_id) do update set language = excluded.language returning id`,
        [telegramId, language],
      );
    return row.id;
  }

  async createTariff(
    slug: string,
    durationSeconds: number,
    opts: { price?: string; starPrice?: number; location?: string } = {},
  ) {
    const [row] = await this.orm.em
      .getConnection()
      .execute(
        `insert into tariffs (slug, name, price, duration_seconds, star_price, location) values (?, ?, ?, ?, ?, ?) returning *`,
        [slug, slug, opts.price ?? '10.00', durationSeconds, opts.starPrice ?? 5, opts.location ?? null],
      );
    return row;
  }

  /** What the API does: start the purchase workflow and wait for its payment link (Update-with-Start). */
  async buy(
    telegramId: number,
    tariffSlug: string,
    provider: Provider = 'yookassa',
    overrides: Partial<PurchaseInput> = {},
  ) {
    const conn = this.orm.em.getConnection();
    const [user] = await conn.execute(`select * from users where telegram_id = ?`, [telegramId]);
    const [t] = await conn.execute(`select * from tariffs where slug = ?`, [tariffSlug]);
    const paymentId = randomUUID();
    const input: PurchaseInput = {
      paymentId,
      userId: user.id,
      telegramId: String(telegramId),
      language: user.language,
      provider,
      tariff: {
        id: t.id,
        name: t.name,
        price: t.price,
        currency: t.currency,
        durationSeconds: t.duration_seconds,
        starPrice: t.star_price,
        location: t.location,
      },
      paymentTimeoutMs: this.options.paymentTimeoutMs ?? 60_000,
      remindBeforeMs: this.options.remindBeforeMs ?? [2_000],
      nodeWaitLimitMs: this.options.nodeWaitLimitMs ?? 20_000,
      ...overrides,
    };
    const start = new WithStartWorkflowOperation(PURCHASE_WORKFLOW_TYPE, {
      workflowId: purchaseWorkflowId(paymentId),
      taskQueue: this.queue,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    });
    const link: PaymentLink = await this.client.workflow.executeUpdateWithStart(paymentLinkUpdate, {
      startWorkflowOperation: start,
    });
    return { link, handle: await start.workflowHandle(), paymentId };
  }

  /** Client emails the node really carries. */
  async nodeClients(): Promise<string[]> {
    const res = await this.agent!.call('GET', '/clients');
    return (res.json.clients ?? res.json).map((c: { email: string }) => c.email);
  }

  async stop(): Promise<void> {
    await this.stopWorkers();
    await this.connection?.close();
    await this.agent?.stop();
    await this.xray?.stop();
    await this.target?.close();
    await this.yookassa?.close();
    await this.telegram?.close();
  }
}
