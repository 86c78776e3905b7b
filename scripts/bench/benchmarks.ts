import type { WorkflowHandle } from '@temporalio/client';
import { purchaseWorkflowId, subscriptionWorkflowId } from '../../workflows/purchase-messages';
import type { PurchaseResult } from '../../workflows/purchase';
import { SUBSCRIPTION_WORKFLOW_TYPE, type SubscriptionInput } from '../../workflows/subscription-messages';
import { checkMoney } from './money';
import { type Figure, note } from './report';
import { type Stack, telegramIds } from './stack';
import { distribution, peakInWindow, pool, round1, round2, scaled, sleep, until } from './stats';

export interface BenchContext {
  stack: Stack;
  scale: number;
}

/** Ends purchases a benchmark left waiting for payment, so their polling does not load the next one. */
export async function terminateAll(stack: Stack, workflowIds: string[]): Promise<void> {
  await pool(workflowIds, 50, (id) =>
    stack.sys.client.workflow
      .getHandle(id)
      .terminate('benchmark over')
      .catch(() => undefined),
  );
}

/**
 * Ends every purchase still waiting for its payment (links a benchmark never paid, and purchases whose
 * create answered 503 while the workflow went on): their polling would otherwise load the next benchmark.
 */
export async function terminatePending(stack: Stack): Promise<number> {
  const rows: Array<{ id: string }> = await stack.sys.orm.em
    .getConnection()
    .execute(`select id from payments where status = 'pending'`);
  await terminateAll(
    stack,
    rows.map((r) => purchaseWorkflowId(r.id)),
  );
  return rows.length;
}

/** A purchase created through the API and paid at YooKassa (whose webhook then reaches the API). */
interface Paid {
  tg: number;
  paymentId: string;
  providerId: string;
  paidAt: number;
}

async function createAndPay(
  stack: Stack,
  tg: number,
  pay = true,
  attempts = 1,
): Promise<Paid & { failedTries: number }> {
  for (let i = 1; ; i++) {
    const res = await stack.create(tg);
    if (res.status === 201) {
      const providerId = await stack.providerId(res.body.payment_id);
      const paidAt = Date.now();
      if (pay) stack.sys.yookassa.pay(providerId);
      return { tg, paymentId: res.body.payment_id, providerId, paidAt, failedTries: i - 1 };
    }
    // A 503 tells the bot's user to try again: a user would, with a new payment.
    if (i >= attempts) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
    await sleep(1_000);
  }
}

/** Resolves with the workflow's result, or undefined after `ms`. */
async function resultWithin(handle: WorkflowHandle, ms: number): Promise<PurchaseResult | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([handle.result() as Promise<PurchaseResult>, late]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** POST /api/v1/payments/create (Update-with-Start + the YooKassa call) sequentially, then 10 at a time. */
export async function paymentLinkLatency({ stack, scale }: BenchContext): Promise<Figure[]> {
  const n = scaled(50, scale, 2);
  const users = await stack.createUsers(telegramIds(2 * n + 2), 2 * n + 2);
  const started: string[] = [];
  const run = async (tg: number) => {
    const res = await stack.create(tg);
    if (res.body?.workflow_id) started.push(res.body.workflow_id);
    return res;
  };
  // Two unmeasured requests first: connection set-up and the first workflow task are one-off costs.
  await run(users[0]);
  await run(users[1]);
  const sequential = [];
  for (const tg of users.slice(2, 2 + n)) sequential.push(await run(tg));
  const concurrent = await pool(users.slice(2 + n), 10, run);
  await terminateAll(stack, started);
  const figure = (mode: string, answers: Array<{ status: number; ms: number }>): Figure => {
    const d = distribution(answers.map((a) => a.ms));
    const errors = answers.filter((a) => a.status !== 201).length;
    return {
      name: 'payment_link_latency_ms',
      mode,
      ...d,
      errors,
      warmup_requests: 2,
      target: 'p95 < 1000',
      ok: d.p95 < 1000 && errors === 0,
    };
  };
  return [figure('sequential', sequential), figure('concurrent_10', concurrent)];
}

/** From YooKassa's payment (its webhook goes to the API) to the key's message at Telegram, one at a time. */
export async function paymentToKey({ stack, scale }: BenchContext): Promise<Figure[]> {
  const n = scaled(30, scale, 2);
  const users = await stack.createUsers(telegramIds(n), n);
  const log = stack.telegramLog;
  const toKey: number[] = [];
  const toQr: number[] = [];
  let failed = 0;
  for (const tg of users) {
    const p = await createAndPay(stack, tg);
    const at = await until(() => log.refresh().activationAt(tg), 60_000, 5);
    if (at === undefined) {
      failed++;
      continue;
    }
    toKey.push(at - p.paidAt);
    const qr = await until(() => log.refresh().chats.get(tg)?.photos[0], 30_000, 5);
    if (qr !== undefined) toQr.push(qr - p.paidAt);
  }
  const d = distribution(toKey);
  const qr = distribution(toQr);
  return [
    {
      name: 'payment_to_key_ms',
      mode: 'sequential',
      ...d,
      qr_photo_p50: qr.p50,
      qr_photo_p95: qr.p95,
      failed,
      target: 'p95 < 5000',
      ok: d.p95 < 5000 && failed === 0,
    },
  ];
}

/** The webhook route (allowlist, re-read GET at YooKassa, DB match, signal), posted to as YooKassa would. */
export async function webhookHandler({ stack, scale }: BenchContext): Promise<Figure[]> {
  const n = scaled(50, scale, 2);
  const users = await stack.createUsers(telegramIds(n), n);
  const { sys } = stack;
  const log = stack.telegramLog;
  sys.yookassa.setWebhookUrl(undefined); // YooKassa sends nothing: we deliver each notification ourselves
  const first: Array<{ status: number; ms: number }> = [];
  const again: Array<{ status: number; ms: number }> = [];
  const notification = (providerId: string) => ({
    type: 'notification',
    event: 'payment.succeeded',
    object: sys.yookassa.payment(providerId),
  });
  try {
    const purchases = await pool(users, 5, (tg) => createAndPay(stack, tg, false));
    for (const p of purchases) {
      sys.yookassa.pay(p.providerId);
      first.push(await stack.postWebhook(notification(p.providerId)));
    }
    await until(() => purchases.every((p) => log.refresh().activationAt(p.tg) !== undefined), 60_000, 50);
    await pool(purchases, 10, (p) =>
      resultWithin(sys.client.workflow.getHandle(purchaseWorkflowId(p.paymentId)), 30_000),
    );
    // YooKassa redelivers: the same notification after the purchase is over (re-read, then "closed").
    for (const p of purchases) again.push(await stack.postWebhook(notification(p.providerId)));
  } finally {
    sys.yookassa.setWebhookUrl(stack.webhookUrl);
  }
  const figure = (mode: string, answers: Array<{ status: number; ms: number }>): Figure => {
    const errors = answers.filter((a) => a.status !== 200).length;
    return {
      name: 'webhook_handler_ms',
      mode,
      ...distribution(answers.map((a) => a.ms)),
      errors,
      ok: errors === 0,
    };
  };
  return [figure('live_purchase', first), figure('redelivery_after_completion', again)];
}

/** Many purchases started and paid at once: how many complete per second, and none lost. */
export async function purchasesThroughput({ stack, scale }: BenchContext): Promise<Figure[]> {
  const n = scaled(200, scale, 2);
  const users = await stack.createUsers(telegramIds(n), n);
  const log = stack.telegramLog.refresh();
  const tooManyBefore = log.tooMany;
  const t0 = Date.now();
  const outcomes = await Promise.all(
    users.map((tg) =>
      createAndPay(stack, tg, true, 5).then(
        (p) => ({ ok: true as const, p }),
        (err: Error) => ({ ok: false as const, err: err.message }),
      ),
    ),
  );
  const paid = outcomes.flatMap((o) => (o.ok ? [o.p] : []));
  const failedTries = paid.reduce((sum, p) => sum + p.failedTries, 0);
  const createErrors = outcomes.filter((o) => !o.ok);
  if (createErrors.length)
    note(
      `throughput: ${createErrors.length} creates failed, e.g. ${(createErrors[0] as { err: string }).err}`,
    );
  const allStartedMs = Date.now() - t0;
  const done = new Map<string, number>();
  const results = await Promise.all(
    paid.map(async (p) => {
      const r = await resultWithin(
        stack.sys.client.workflow.getHandle(purchaseWorkflowId(p.paymentId)),
        180_000,
      );
      if (r) done.set(p.paymentId, Date.now());
      return r;
    }),
  );
  log.refresh();
  const granted = results.filter((r) => r?.outcome === 'granted').length;
  const keyTimes = paid.flatMap((p) => {
    const at = log.activationAt(p.tg);
    return at === undefined ? [] : [at - p.paidAt];
  });
  const lastDone = Math.max(...done.values(), t0);
  const elapsedS = (lastDone - t0) / 1000;
  const money = await checkMoney(stack.sys);
  const lost = paid.length - granted;
  const key = distribution(keyTimes);
  return [
    {
      name: 'purchases_throughput_per_s',
      n,
      completed: granted,
      lost,
      create_errors: createErrors.length,
      create_503_retried: failedTries,
      elapsed_s: round1(elapsedS),
      all_created_and_paid_s: round1(allStartedMs / 1000),
      value: round2(granted / Math.max(elapsedS, 0.001)),
      pay_to_key_p50_ms: key.p50,
      pay_to_key_p95_ms: key.p95,
      telegram_429: log.tooMany - tooManyBefore,
      money_violations: money.violations,
      target: 'lost = 0',
      ok: lost === 0 && createErrors.length === 0 && money.violations === 0,
    },
  ];
}

/** Lifetimes whose reminders fall due in the same instant: the telegram queue's limit must pace them. */
export async function remindersDelivery({ stack, scale }: BenchContext): Promise<Figure[]> {
  const n = scaled(1000, scale, 2);
  const { sys } = stack;
  const conn = sys.orm.em.getConnection();
  const base = telegramIds(n);
  await stack.createUsers(base, n);
  const [tariff] = await conn.execute(`select id from tariffs order by id limit 1`);
  const subs: Array<{ id: string; telegram_id: string }> = await conn.execute(
    `insert into subscriptions (id, user_id, tariff_id, node_id, status, client_uuid, client_email,
                                subscription_token, starts_at, expires_at)
     select gen_random_uuid(), u.id, ?, ?, 'active', gen_random_uuid(), 'bench-' || u.telegram_id,
            md5(random()::text || u.telegram_id), now(), now() + interval '1 hour'
       from users u where u.telegram_id >= ? and u.telegram_id < ?
     returning id, (select telegram_id from users where users.id = user_id)::text as telegram_id`,
    [tariff.id, sys.nodeId, base, base + n],
  );
  const log = stack.telegramLog.refresh();
  const tooManyBefore = log.tooMany;
  const t0 = Date.now();
  const dueAt = t0 + 5_000 + n * 30; // time to start them all first, so the burst is real
  const expiresAt = dueAt + 10 * 60_000; // no revoke while we watch
  const handles = await pool(subs, 100, (s) =>
    sys.client.workflow.start(SUBSCRIPTION_WORKFLOW_TYPE, {
      workflowId: subscriptionWorkflowId(s.id),
      taskQueue: sys.queue,
      args: [
        {
          subscriptionId: s.id,
          telegramId: s.telegram_id,
          language: 'en',
          nodeId: sys.nodeId!,
          expiresAt: new Date(expiresAt).toISOString(),
          remindBeforeMs: [expiresAt - dueAt],
        } satisfies SubscriptionInput,
      ],
    }),
  );
  const allStarted = Date.now();
  const chats = subs.map((s) => Number(s.telegram_id));
  const delivered = () => chats.filter((c) => (log.chats.get(c)?.sends.length ?? 0) > 0).length;
  await until(() => log.refresh() && delivered() >= n, Math.max(0, dueAt - Date.now()) + 240_000, 250);
  await sleep(1_500); // a duplicate would show up now
  log.refresh();
  const times = chats.flatMap((c) => log.chats.get(c)?.sends ?? []);
  const reached = delivered();
  const from = Math.max(dueAt, allStarted);
  const last = times.length ? Math.max(...times) : from;
  const first = times.length ? Math.min(...times) : from;
  const peak = peakInWindow(times);
  const tooMany = log.tooMany - tooManyBefore;
  await pool(handles, 100, (h) => h.terminate('benchmark over').catch(() => undefined));
  return [
    {
      name: 'reminders_delivery',
      n,
      delivered: reached,
      duplicates: times.length - reached,
      started_all_s: round1((allStarted - t0) / 1000),
      started_late: allStarted > dueAt,
      deliver_all_s: round1((last - from) / 1000),
      first_after_due_s: round2((first - from) / 1000),
      value: round1(times.length / Math.max((last - first) / 1000, 0.001)),
      unit: 'msg/s average',
      peak_per_s: peak,
      telegram_429: tooMany,
      queue_limit_per_s: 15, // test/support/system.ts runs the telegram worker at the default TELEGRAM_RATE_PER_SECOND
      target: 'peak <= 30/s, 0 x 429, 0 lost',
      ok: peak <= 30 && tooMany === 0 && reached === n && times.length === n,
    },
  ];
}
