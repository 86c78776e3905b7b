import type { PurchaseResult } from '../../workflows/purchase';
import { purchaseWorkflowId } from '../../workflows/purchase-messages';
import { checkMoney } from '../bench/money';
import { type Figure, note } from '../bench/report';
import { type CreateAnswer, type Stack, startStack } from '../bench/stack';
import { pool, sleep } from '../bench/stats';

export interface ChaosContext {
  scale: number;
}

/** A fresh stack per scenario; the money invariant is checked at its end, whatever happened. */
export async function withStack(
  options: Parameters<typeof startStack>[0],
  run: (stack: Stack) => Promise<Figure>,
): Promise<Figure> {
  const stack = await startStack({ nodeCapacity: 1_000_000, ...options });
  try {
    let figure: Figure;
    try {
      figure = await run(stack);
    } catch (err) {
      // The scenario broke off: what happened to the money so far is still reported.
      const money = await checkMoney(stack.sys).catch(() => undefined);
      throw Object.assign(err as Error, { moneyViolations: money?.violations, moneyDetails: money?.details });
    }
    const money = await checkMoney(stack.sys);
    if (money.violations) note(`${figure.name}: money violations ${JSON.stringify(money.details)}`);
    return {
      ...figure,
      money_violations: money.violations,
      ...(money.violations ? { money_details: money.details } : {}),
      ok: figure.ok === true && money.violations === 0,
    };
  } finally {
    await stack.stop();
  }
}

/** `201`, or the status with the body's error code (`429 purchase_limit`, `500 internal_error`). */
export function answerKey(res: CreateAnswer): string {
  const error = typeof res.body === 'object' && res.body?.error;
  return res.status >= 400 && error ? `${res.status} ${error}` : String(res.status);
}

export interface Bought {
  tg: number;
  paymentId: string;
  providerId: string;
  paidAt?: number;
}

/**
 * Purchases through the real API. A 503 is what the bot shows as "try again later", so a user would
 * try again: each is retried (up to `attempts`), and the failed tries are counted. With `mayGiveUp`, a
 * user still refused after the last try gives up (counted; nothing was paid) instead of failing the run.
 */
export async function createPurchases(
  stack: Stack,
  users: number[],
  concurrency: number,
  attempts = 6,
  mayGiveUp = false,
): Promise<{
  bought: Bought[];
  failedTries: number;
  gaveUp: number;
  statuses: Record<string, number>;
}> {
  let failedTries = 0;
  let gaveUp = 0;
  const statuses: Record<string, number> = {};
  const made = await pool(users, concurrency, async (tg): Promise<Bought | undefined> => {
    for (let i = 1; ; i++) {
      const res = await stack.create(tg);
      const key = answerKey(res);
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (res.status === 201) {
        return {
          tg,
          paymentId: res.body.payment_id,
          providerId: await stack.providerId(res.body.payment_id),
        };
      }
      failedTries++;
      if (i >= attempts) {
        if (mayGiveUp) {
          gaveUp++;
          return undefined;
        }
        throw new Error(
          `create for ${tg} failed ${i} times, last ${res.status}: ${JSON.stringify(res.body)}`,
        );
      }
      await sleep(1_000);
    }
  });
  const bought = made.filter((b): b is Bought => b !== undefined);
  return { bought, failedTries, gaveUp, statuses };
}

export function pay(stack: Stack, b: Bought): void {
  b.paidAt = Date.now();
  stack.sys.yookassa.pay(b.providerId);
}

/**
 * Pay → access granted, per purchase that got it: the moment the database committed its grant event
 * (`activated`/`extended`), which is when the key starts to work, whatever the notification does.
 */
export async function grantLatencies(stack: Stack, bought: Bought[]): Promise<number[]> {
  if (bought.length === 0) return [];
  const rows: Array<{ payment_id: string; at: Date }> = await stack.sys.orm.em.getConnection().execute(
    `select payment_id, created_at as at from subscription_events
      where type in ('activated', 'extended') and payment_id in (?)`,
    [bought.map((b) => b.paymentId)],
  );
  const paidAt = new Map(bought.map((b) => [b.paymentId, b.paidAt]));
  return rows.flatMap((r) => {
    const t = paidAt.get(r.payment_id);
    return t === undefined ? [] : [new Date(r.at).getTime() - t];
  });
}

export interface Outcome {
  result?: PurchaseResult;
  doneAt?: number;
  error?: string;
}

/** Follows each purchase's workflow to its end (or the deadline); `outcomes` fills in as they finish. */
export function follow(stack: Stack, bought: Bought[], deadlineAt: number) {
  const outcomes = new Map<string, Outcome>();
  let stop = false;
  const done = Promise.all(
    bought.map(async (b) => {
      const handle = stack.sys.client.workflow.getHandle(purchaseWorkflowId(b.paymentId));
      // Long polls are cut by the client after a while: ask again until the deadline.
      while (!stop && Date.now() < deadlineAt) {
        try {
          const result = (await handle.result()) as PurchaseResult;
          outcomes.set(b.paymentId, { result, doneAt: Date.now() });
          return;
        } catch (err) {
          const message = (err as Error).message;
          if (/terminated|failed|cancel/i.test(message) && !/deadline|timeout/i.test(message)) {
            outcomes.set(b.paymentId, { error: message, doneAt: Date.now() });
            return;
          }
          await sleep(500);
        }
      }
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadlineAt - Date.now()));
  });
  return {
    outcomes,
    count: (outcome: PurchaseResult['outcome']) =>
      [...outcomes.values()].filter((o) => o.result?.outcome === outcome).length,
    /** Resolves when every purchase ended or the deadline passed. */
    settled: Promise.race([done, deadline]).finally(() => {
      stop = true;
      clearTimeout(timer);
    }),
  };
}

/**
 * Why purchases did not end granted, counted by reason: their outcome, the workflow's failure, or (still
 * running) the stage they are stuck in. Makes a "lost" figure explain itself.
 */
export async function notGranted(
  stack: Stack,
  bought: Bought[],
  outcomes: Map<string, Outcome>,
): Promise<Record<string, number>> {
  const reasons: Record<string, number> = {};
  for (const b of bought) {
    const o = outcomes.get(b.paymentId);
    if (o?.result?.outcome === 'granted') continue;
    let reason = o?.result ? `outcome ${o.result.outcome}` : o?.error ? `failed: ${o.error}` : 'unfinished';
    const handle = stack.sys.client.workflow.getHandle(purchaseWorkflowId(b.paymentId));
    try {
      const d = await handle.describe();
      if (d.status.name === 'FAILED') {
        const history = await handle.fetchHistory();
        const failed = history.events?.find((e) => e.workflowExecutionFailedEventAttributes);
        const f = failed?.workflowExecutionFailedEventAttributes?.failure;
        reason = `workflow FAILED: ${f?.message ?? ''}${f?.cause?.message ? ` (cause: ${f.cause.message})` : ''}`;
      } else if (d.status.name === 'RUNNING') {
        const stage = d.searchAttributes?.PurchaseStage;
        reason = `still running, stage ${Array.isArray(stage) ? stage[0] : 'unknown'}`;
        const pending = d.raw.pendingActivities?.[0];
        if (pending) {
          reason += `, pending ${pending.activityType?.name} attempt ${pending.attempt}: ${pending.lastFailure?.message ?? ''}`;
        } else {
          const events = (await handle.fetchHistory()).events ?? [];
          const taskFailed = [...events].reverse().find((e) => e.workflowTaskFailedEventAttributes);
          const f = taskFailed?.workflowTaskFailedEventAttributes?.failure;
          const timer = [...events].reverse().find((e) => e.timerStartedEventAttributes);
          if (f) reason += `, workflow task failing: ${f.message}`;
          else if (timer)
            reason += `, sleeping (timer ${timer.timerStartedEventAttributes?.startToFireTimeout?.seconds}s)`;
        }
      }
    } catch {
      // described as far as we could
    }
    reason = reason.slice(0, 200);
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  return reasons;
}

/** The node's real client list against the database's active accesses. */
export async function nodeAudit(
  stack: Stack,
): Promise<{ clients: number; active: number; orphans: number; duplicates: number }> {
  const clients = await stack.sys.nodeClients();
  const rows: Array<{ id: string }> = await stack.sys.orm.em
    .getConnection()
    .execute(`select id from subscriptions where status = 'active' and node_id = ?`, [stack.sys.nodeId]);
  const active = new Set(rows.map((r) => r.id));
  return {
    clients: clients.length,
    active: active.size,
    // A client no active access accounts for: a second client made for one purchase, or one a refund left.
    orphans: clients.filter((c) => !active.has(c)).length,
    duplicates: clients.length - new Set(clients).size,
  };
}

/** Activation messages per user: how many users got theirs, and how many got one twice. */
export function messageAudit(stack: Stack, users: number[]) {
  const log = stack.telegramLog.refresh();
  let activated = 0;
  let duplicateTexts = 0;
  let duplicatePhotos = 0;
  for (const tg of users) {
    const c = log.chats.get(tg);
    if (!c) continue;
    if (c.activations.length > 0) activated++;
    duplicateTexts += Math.max(0, c.activations.length - 1);
    duplicatePhotos += Math.max(0, c.photos.length - 1);
  }
  return { activated, duplicateTexts, duplicatePhotos };
}

export const seconds = (ms: number) => Math.round(ms / 100) / 10;
