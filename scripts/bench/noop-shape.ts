import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WithStartWorkflowOperation, WorkflowIdConflictPolicy } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { createTelegramActivities, type Notification } from '../../activities/telegram';
import { createLogger } from '../../infra/logger';
import { createTelegramSender } from '../../infra/telegram/sender';
import { purchasesWorkerSettings, telegramWorkerSettings } from '../../workers/worker-settings';
import { benchTuning } from './tuning';
import {
  BENCH_NOOP_PURCHASE_WORKFLOW_TYPE,
  BENCH_NOTIFY_WORKFLOW_TYPE,
  benchNoopWorkflowId,
  benchNotifyWorkflowId,
  type NoopPurchaseActivities,
} from '../../workflows/bench-noop';
import {
  type PurchaseInput,
  paymentLinkUpdate,
  paymentNoticeSignal,
} from '../../workflows/purchase-messages';
import { telegramQueueFor } from '../../workflows/telegram-queue';
import type { PurchaseSystem } from '../../infra/local/system';
import { pool } from './stats';

let bundle: Promise<string> | undefined;
/** workflows/bench-noop.ts bundled on its own: the product's bundle never carries the bench workflows. */
function benchBundle(): Promise<string> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows/bench-noop'),
    logger: new DefaultLogger('WARN'),
  }).then(({ code }) => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'vpn-bench-bundle-')), 'bench.js');
    writeFileSync(file, code);
    return file;
  });
  return bundle;
}

/** When each no-op purchase reached the step that matters to a figure (ms since epoch). */
export interface NoopTimes {
  provisionedAt: Map<string, number>;
  notifiedAt: Map<string, number>;
}

/**
 * The no-op purchase shape (workflows/bench-noop.ts) on its own queue pair, with the product's worker
 * settings (workers/worker-settings.ts) and Telegram rate, on the same Temporal server and machine.
 */
export class NoopShape {
  readonly queue = `purchases-bench-${randomBytes(4).toString('hex')}`;
  readonly times: NoopTimes = { provisionedAt: new Map(), notifiedAt: new Map() };
  private workers: Worker[] = [];
  private running: Promise<unknown>[] = [];
  private connection?: NativeConnection;

  constructor(
    private readonly sys: PurchaseSystem,
    private readonly telegramRatePerSecond: number,
  ) {}

  async start(): Promise<this> {
    this.connection = await NativeConnection.connect({ address: this.sys.temporalAddress });
    const at =
      (map: Map<string, number>) =>
      async ({ paymentId }: { paymentId: string }) => {
        map.set(paymentId, Date.now());
      };
    const nothing = async () => undefined;
    const activities: NoopPurchaseActivities = {
      async createPayment(input) {
        const now = new Date();
        return {
          paymentId: input.paymentId,
          providerPaymentId: `noop-${input.paymentId}`,
          confirmationUrl: 'http://noop.test/pay',
          amount: input.tariff.price,
          currency: input.tariff.currency,
          createdAt: now.toISOString(),
          expiresAt: new Date(now.getTime() + input.paymentTimeoutMs).toISOString(),
          status: 'pending',
        };
      },
      getPaymentState: nothing,
      recordPaymentSucceeded: nothing,
      extendActiveSubscription: async () => null,
      selectNode: async () => 'noop-node',
      addClient: nothing,
      activateSubscription: at(this.times.provisionedAt),
      scheduleLifetime: nothing,
      observeKeyDelivered: nothing,
    };
    const workflowBundle = { codePath: await benchBundle() };
    const purchases = await Worker.create({
      connection: this.connection,
      namespace: 'default',
      taskQueue: this.queue,
      workflowBundle,
      activities,
      ...purchasesWorkerSettings(benchTuning().worker),
    });
    const markNotified = at(this.times.notifiedAt);
    const telegram = await Worker.create({
      connection: this.connection,
      namespace: 'default',
      taskQueue: telegramQueueFor(this.queue),
      activities: {
        async notify(n: Notification) {
          await markNotified({ paymentId: n.paymentId! });
          return 'sent';
        },
      },
      ...telegramWorkerSettings(this.telegramRatePerSecond),
    });
    this.workers = [purchases, telegram];
    this.running = this.workers.map((w) => w.run());
    return this;
  }

  /** What the API does for a purchase: Update-with-Start, returning once the payment link is there. */
  async create(telegramId: number): Promise<string> {
    const paymentId = randomUUID();
    const input: PurchaseInput = {
      paymentId,
      userId: randomUUID(),
      telegramId: String(telegramId),
      language: 'en',
      provider: 'yookassa',
      tariff: {
        id: 1,
        name: 'bench',
        price: '10.00',
        currency: 'RUB',
        durationSeconds: 3600,
        starPrice: 1,
        location: null,
      },
      paymentTimeoutMs: 600_000,
      remindBeforeMs: [],
      nodeWaitLimitMs: 20_000,
    };
    const start = new WithStartWorkflowOperation(BENCH_NOOP_PURCHASE_WORKFLOW_TYPE, {
      workflowId: benchNoopWorkflowId(paymentId),
      taskQueue: this.queue,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    });
    await this.sys.client.workflow.executeUpdateWithStart(paymentLinkUpdate, {
      startWorkflowOperation: start,
    });
    return paymentId;
  }

  /** The webhook's part: one payment notice signal. */
  async pay(paymentId: string): Promise<void> {
    await this.sys.client.workflow.getHandle(benchNoopWorkflowId(paymentId)).signal(paymentNoticeSignal, {
      status: 'succeeded',
      providerPaymentId: `noop-${paymentId}`,
      amount: '10.00',
      currency: 'RUB',
    });
  }

  async result(paymentId: string): Promise<unknown> {
    return this.sys.client.workflow.getHandle(benchNoopWorkflowId(paymentId)).result();
  }

  async stop(): Promise<void> {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(this.running);
    await this.connection?.close();
  }
}

/**
 * The real telegram activity (DB claim, per-chat pace, the sender) on a fresh telegram queue whose
 * limiter runs at `ratePerSecond`, fed by benchNotifyWorkflow: the Telegram budget measured on its own.
 */
export class NotifyBudget {
  readonly queue = `purchases-budget-${randomBytes(4).toString('hex')}`;
  private workers: Worker[] = [];
  private running: Promise<unknown>[] = [];
  private connection?: NativeConnection;

  constructor(
    private readonly sys: PurchaseSystem,
    readonly ratePerSecond: number,
  ) {}

  async start(): Promise<this> {
    this.connection = await NativeConnection.connect({ address: this.sys.temporalAddress });
    const common = { connection: this.connection, namespace: 'default' };
    const workflows = await Worker.create({
      ...common,
      taskQueue: this.queue,
      workflowBundle: { codePath: await benchBundle() },
      ...purchasesWorkerSettings(benchTuning().worker),
    });
    const telegram = await Worker.create({
      ...common,
      taskQueue: telegramQueueFor(this.queue),
      activities: createTelegramActivities({
        orm: this.sys.orm,
        sender: createTelegramSender({ apiRoot: this.sys.telegram.url, botToken: this.sys.telegram.token }),
        publicBaseUrl: 'http://vpn.test',
        logger: createLogger('bench-budget'),
      }),
      ...telegramWorkerSettings(this.ratePerSecond),
    });
    this.workers = [workflows, telegram];
    this.running = this.workers.map((w) => w.run());
    return this;
  }

  /** Starts one notification workflow per message, all at once (as reminders falling due together). */
  async burst(messages: Notification[], startConcurrency = 100): Promise<void> {
    await pool(messages, startConcurrency, (n, i) =>
      this.sys.client.workflow.start(BENCH_NOTIFY_WORKFLOW_TYPE, {
        workflowId: benchNotifyWorkflowId(this.queue, i),
        taskQueue: this.queue,
        args: [n],
      }),
    );
  }

  async stop(): Promise<void> {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(this.running);
    await this.connection?.close();
  }
}
