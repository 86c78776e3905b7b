import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';
import type { createAutoRenewActivities } from '../../activities/auto-renew';
import { createDatabaseActivities } from '../../activities/database';
import { createLifetimeActivities } from '../../activities/lifetime';
import { createNodeActivities } from '../../activities/nodes';
import { createPaymentActivities } from '../../activities/payments';
import { createPlanChangeActivities } from '../../activities/plan-change';
import type { createReferralActivities } from '../../activities/referrals';
import { createTelegramActivities } from '../../activities/telegram';
import { ensureTestServer } from '../../infra/local/test-server';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { purchaseWorkflow } from '../../workflows/purchase';
import { type PurchaseInput, paymentNoticeSignal } from '../../workflows/purchase-messages';
import { type SubscriptionInput, subscriptionWorkflow } from '../../workflows/subscription';
import type { createFleetActivities } from '../../activities/fleet';
import { telegramQueueFor } from '../../workflows/telegram-queue';

// The fast layer: the real workflow code on Temporal's time-skipping test server, activities stubbed per test.
// A month of timers passes in milliseconds; what a test asserts is what the workflow did, in order, and at
// which server time (never how long it took).

/** Every activity the `purchases` queue serves, typed from the real factories so a renamed one fails tsc here. */
export type PurchaseQueueActivities = ReturnType<typeof createPaymentActivities> &
  ReturnType<typeof createDatabaseActivities> &
  ReturnType<typeof createNodeActivities> &
  ReturnType<typeof createLifetimeActivities> &
  Pick<ReturnType<typeof createReferralActivities>, 'offerReferralReward'> &
  ReturnType<typeof createPlanChangeActivities> &
  ReturnType<typeof createAutoRenewActivities> &
  Pick<ReturnType<typeof createFleetActivities>, 'drainDeadNodes'>;
export type TelegramQueueActivities = ReturnType<typeof createTelegramActivities>;

let env: Promise<TestWorkflowEnvironment> | undefined;
let bundle: Promise<{ code: string }> | undefined;

/** One test server per mocha run (a JVM start costs seconds); tests run serially, so its clock is theirs. */
export function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  env ??= (async () => {
    const executable = await ensureTestServer((line) => console.error(line));
    const e = await startServer(executable);
    try {
      await registerStageAttributes(e);
      await warmUp(e);
      return e;
    } catch (err) {
      await e.teardown();
      throw err;
    }
  })();
  return env;
}

async function startServer(executable: string): Promise<TestWorkflowEnvironment> {
  // The SDK waits 5 s for the port; a JVM on a loaded machine can miss that once, so retry.
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: executable } },
      });
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

/**
 * A cold worker's first workflow tasks take seconds, and the test server does not hold its clock for them: it
 * jumps to the task timeout, then ten years on to the execution timeout ("Workflow execution timed out"). So a
 * throwaway lifetime and a throwaway Stars purchase run through the shared workers first with skipping locked
 * (real time), and the tests meet warm workers with both workflow types compiled.
 */
async function warmUp(e: TestWorkflowEnvironment): Promise<void> {
  const lifetime: SubscriptionInput = {
    subscriptionId: 'warm-up',
    telegramId: '0',
    language: 'en',
    nodeId: 'node-warm',
    expiresAt: new Date(0).toISOString(),
    remindBeforeMs: [],
  };
  const purchase: PurchaseInput = {
    paymentId: 'warm-up',
    userId: 'warm-up',
    telegramId: '0',
    language: 'en',
    provider: 'stars',
    tariff: { id: 0, name: 'warm-up', price: '1.00', currency: 'XTR', durationSeconds: 60, starPrice: 1 },
    paymentTimeoutMs: 3_600_000,
    remindBeforeMs: [],
    nodeWaitLimitMs: 60_000,
  };
  const ok = async () => undefined;
  const stubs: UnitActivities = {
    purchases: {
      beginRevoke: async () => ({ kind: 'gone' }),
      createPayment: async () => ({
        paymentId: 'warm-up',
        providerPaymentId: 'warm-up',
        confirmationUrl: null,
        amount: '1.00',
        currency: 'XTR',
        createdAt: new Date(0).toISOString(),
        expiresAt: new Date(0).toISOString(),
        status: 'pending',
      }),
      recordPaymentSucceeded: ok,
      extendActiveSubscription: async () => null,
      selectNode: async () => 'node-warm',
      addClient: ok,
      activateSubscription: async (a) => ({
        kind: 'activated',
        subscriptionId: a.subscriptionId,
        expiresAt: '',
      }),
      scheduleLifetime: ok,
      observeKeyDelivered: ok,
    },
    telegram: { notify: async () => 'sent' as const },
  };
  await withStubs(e, stubs, async (taskQueue) => {
    const handles = [
      await e.client.workflow.start(subscriptionWorkflow, {
        taskQueue,
        workflowId: 'warm-up-life',
        args: [lifetime],
      }),
      await e.client.workflow.start(purchaseWorkflow, {
        taskQueue,
        workflowId: 'warm-up-purchase',
        args: [purchase],
      }),
    ];
    await handles[1].signal(paymentNoticeSignal, {
      providerPaymentId: 'warm-up',
      status: 'succeeded',
      amount: '1.00',
      currency: 'XTR',
    });
    for (const handle of handles) {
      await eventually(
        async () => (await handle.describe()).status.name !== 'RUNNING',
        'the warm-up finished',
      );
    }
    // The first result() awaited on a fresh server was seen to lose the clock the same way; spend it here.
    const firstSkip = await e.client.workflow.start(subscriptionWorkflow, {
      taskQueue,
      workflowId: 'warm-up-skip',
      args: [
        {
          ...lifetime,
          subscriptionId: 'warm-up-skip',
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        },
      ],
    });
    await firstSkip.result().catch(() => undefined);
  });
}

/** The workflows upsert these at every stage change; the test server rejects keys it does not know. */
async function registerStageAttributes(e: TestWorkflowEnvironment): Promise<void> {
  const searchAttributes = Object.fromEntries(
    Object.values(SEARCH_ATTRIBUTES).map((k) => [k.name, k.type === 'DATETIME' ? 6 : 2]),
  );
  await e.connection.operatorService.addSearchAttributes({
    namespace: e.namespace ?? 'default',
    searchAttributes,
  });
}

export async function stopTimeSkipping(): Promise<void> {
  const running = env;
  const workers = shared;
  env = undefined;
  shared = undefined;
  if (workers) await (await workers.catch(() => undefined))?.stop(); // before the server goes, or mocha hangs
  if (running) await (await running.catch(() => undefined))?.teardown();
}

/**
 * The real workflows/ code, bundled once per run. Webpack takes seconds, so the bundle is kept in the temp dir
 * under a hash of every source file and the lockfile: any change to the code (or what it could import) rebuilds.
 */
function workflowBundle(): Promise<{ code: string }> {
  bundle ??= (async () => {
    const root = path.resolve(__dirname, '..', '..');
    const file = path.join(os.tmpdir(), `vpn-unit-workflows-${sourceHash(root)}.js`);
    if (existsSync(file)) return { code: readFileSync(file, 'utf8') };
    const built = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../workflows'),
      logger: new DefaultLogger('WARN'),
    });
    const scratch = `${file}.${process.pid}`;
    writeFileSync(scratch, built.code);
    renameSync(scratch, file);
    return built;
  })();
  return bundle;
}

function sourceHash(root: string): string {
  const hash = createHash('sha256');
  const skip = new Set(['node_modules', '.git', '.data', 'dist', 'test', 'coverage']);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (skip.has(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|js|json)$/.test(entry.name)) hash.update(full).update(readFileSync(full));
    }
  };
  walk(root);
  return hash.digest('hex').slice(0, 16);
}

/**
 * The server's (skipped) time of the running activity attempt. A scheduled activity carries it; a local one
 * (scheduled by the worker itself) carries the machine's clock, so the shared worker stamps it with the test
 * server's time before it runs (see sharedWorkers).
 */
const localActivityServerTime = new WeakMap<Context, number>();
export function activityServerTime(): number {
  const ctx = Context.current();
  return ctx.info.isLocal
    ? (localActivityServerTime.get(ctx) ?? ctx.info.currentAttemptScheduledTimestampMs)
    : ctx.info.currentAttemptScheduledTimestampMs;
}

/** One call an activity stub received, stamped with the server's (skipped) time of that attempt. */
export interface Call {
  name: string;
  args: Record<string, unknown>;
  at: number;
}

/** Calls in the order the workflow made them: the user's and the operator's view of what happened. */
export class Journal {
  readonly calls: Call[] = [];

  record(name: string, args: unknown): Call {
    const call = {
      name,
      args: (args ?? {}) as Record<string, unknown>,
      at: activityServerTime(),
    };
    this.calls.push(call);
    return call;
  }

  named(...names: string[]): Call[] {
    return this.calls.filter((c) => names.includes(c.name));
  }

  names(): string[] {
    return this.calls.map((c) => c.name);
  }

  /** The notification kinds the user received, in order. */
  notifications(): string[] {
    return this.named('notify').map((c) => String(c.args.kind));
  }

  count(name: string): number {
    return this.named(name).length;
  }

  first(name: string): Call {
    const call = this.calls.find((c) => c.name === name);
    if (!call) throw new Error(`${name} was never called; calls: ${this.names().join(', ')}`);
    return call;
  }
}

export interface UnitWorkers {
  env: TestWorkflowEnvironment;
  /** The purchases queue the shared workers poll; its telegram queue is derived as in production. */
  taskQueue: string;
}

export interface UnitActivities {
  purchases: Partial<PurchaseQueueActivities>;
  telegram: Partial<TelegramQueueActivities>;
}

/**
 * Every activity name the two queues serve; the shared workers route each call to the running test's stub.
 * Read from the real factories (built over an inert stand-in for their dependencies, which they only use when
 * called), so an activity added to an adapter is routed without touching this file; the list is the fallback.
 */
const KNOWN_PURCHASE_ACTIVITIES: (keyof PurchaseQueueActivities)[] = [
  'createPayment',
  'getPaymentState',
  'cancelOrGetFinalState',
  'refundPayment',
  'recordPaymentSucceeded',
  'recordPaymentCanceled',
  'recordPaymentExpired',
  'extendActiveSubscription',
  'activateSubscription',
  'selectNode',
  'beginRevoke',
  'finishRevoke',
  'raiseOpsAlert',
  'observeKeyDelivered',
  'addClient',
  'removeClient',
  'checkNodes',
  'drainDeadNodes',
  'scheduleLifetime',
  'offerReferralReward',
  'planAutoRenew',
  'finishAutoRenewAttempt',
];

// biome-ignore lint/suspicious/noExplicitAny: an inert stand-in for any dependency object
const inert: any = new Proxy(() => undefined, {
  get: (_target, key) => (key === 'then' ? undefined : inert),
  apply: () => inert,
});

function activityNames(factories: Array<(deps: never) => object>, known: string[]): string[] {
  const names = new Set(known);
  for (const factory of factories) {
    try {
      for (const name of Object.keys(factory(inert as never))) names.add(name);
    } catch {
      // a factory that uses its deps at creation: the known list still covers it
    }
  }
  return [...names];
}

interface SharedWorkers {
  taskQueue: string;
  stop(): Promise<void>;
}

let current: { activities: UnitActivities; workflowIds: Set<string> } | undefined;
let shared: Promise<SharedWorkers> | undefined;

function route(
  queue: keyof UnitActivities,
  names: string[],
): Record<string, (...args: unknown[]) => unknown> {
  return Object.fromEntries(
    names.map((name) => [
      name,
      async (...args: unknown[]) => {
        const test = current;
        const fn = test?.activities[queue][name as never] as ((...a: unknown[]) => unknown) | undefined;
        if (!test || !fn)
          throw ApplicationFailure.nonRetryable(`no stub for ${name} in this test`, 'NoStubInThisTest');
        const workflowId = Context.current().info.workflowExecution?.workflowId;
        if (workflowId) test.workflowIds.add(workflowId);
        return fn(...args);
      },
    ]),
  );
}

/**
 * Workers cost seconds to create (threads, the bundle into V8), and a cold worker's first tasks are slow enough
 * for the test server to skip time past them. So one warm pair serves the whole run, and each test plugs in its
 * own stubs.
 */
function sharedWorkers(e: TestWorkflowEnvironment): Promise<SharedWorkers> {
  shared ??= (async () => {
    const taskQueue = `purchases-unit-${randomBytes(4).toString('hex')}`;
    const common = { connection: e.nativeConnection, namespace: e.namespace ?? 'default' };
    const workers = [
      await Worker.create({
        ...common,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: route(
          'purchases',
          activityNames(
            [
              createPaymentActivities,
              createDatabaseActivities,
              createNodeActivities,
              createLifetimeActivities,
              createPlanChangeActivities,
            ],
            KNOWN_PURCHASE_ACTIVITIES,
          ),
        ),
        maxCachedWorkflows: 100,
        interceptors: {
          activity: [
            (ctx) => ({
              inbound: {
                async execute(input, next) {
                  if (ctx.info.isLocal) localActivityServerTime.set(ctx, await e.currentTimeMs());
                  return next(input);
                },
              },
            }),
          ],
        },
      }),
      await Worker.create({
        ...common,
        taskQueue: telegramQueueFor(taskQueue),
        activities: route('telegram', activityNames([createTelegramActivities], ['notify'])),
      }),
    ];
    const running = workers.map((w) => w.run());
    return {
      taskQueue,
      async stop() {
        for (const w of workers) w.shutdown();
        await Promise.allSettled(running);
      },
    };
  })();
  return shared;
}

/**
 * Runs `fn` with the given stubs behind the shared workers: the real workflows on `purchases-unit-…` and the
 * notifications on the paired `telegram-unit-…`. Whatever the test left running is terminated afterwards, so it
 * never calls the next test's stubs.
 */
export async function withWorkers<T>(
  activities: UnitActivities,
  fn: (w: UnitWorkers) => Promise<T>,
): Promise<T> {
  const e = await timeSkippingEnv();
  return withStubs(e, activities, (taskQueue) => fn({ env: e, taskQueue }));
}

async function withStubs<T>(
  e: TestWorkflowEnvironment,
  activities: UnitActivities,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const { taskQueue } = await sharedWorkers(e);
  const test = { activities, workflowIds: new Set<string>() };
  current = test;
  try {
    return await fn(taskQueue);
  } finally {
    for (const workflowId of test.workflowIds) {
      await e.client.workflow
        .getHandle(workflowId)
        .terminate('test over')
        .catch(() => undefined); // already closed
    }
    current = undefined;
  }
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** Waits in real time (time skipping stays locked) until `check` holds: for "the workflow got this far". */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string): Promise<T> {
  for (const giveUpAt = Date.now() + 60_000; ; ) {
    const value = await check();
    if (value) return value;
    if (Date.now() > giveUpAt) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// History event types (temporal.api.enums.v1.EventType) that tell whether the workflow is between tasks.
const WORKFLOW_TASK_EVENTS = new Set([5, 6, 7, 8, 9]); // scheduled, started, completed, timed out, failed
const WORKFLOW_TASK_COMPLETED = 7;
const TIMER_STARTED = 17;

/**
 * Waits (real time) until the workflow sleeps on a timer with no workflow task open. Query only then: a query
 * that meets an open workflow task was seen to leave the test server's clock running free even outside
 * `result()` (symptom: "Workflow execution timed out", ten years on), most likely an unbalanced time lock.
 */
export async function sleeping(handle: WorkflowHandle): Promise<void> {
  await eventually(async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const types = events.map((e) => Number(e.eventType));
    const lastTask = types.filter((t) => WORKFLOW_TASK_EVENTS.has(t)).pop();
    return types.includes(TIMER_STARTED) && lastTask === WORKFLOW_TASK_COMPLETED;
  }, `${handle.workflowId} sleeps on a timer`);
}
