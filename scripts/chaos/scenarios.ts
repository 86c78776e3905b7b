import type { Figure } from '../bench/report';
import { type Stack, telegramIds } from '../bench/stack';
import { distribution, scaled, sleep, until } from '../bench/stats';
import { spawnWorker, type WorkerProcess } from '../../infra/local/worker-process';
import { stopAgent } from './agent';
import {
  type Bought,
  type ChaosContext,
  createPurchases,
  grantLatencies,
  follow,
  messageAudit,
  nodeAudit,
  notGranted,
  pay,
  seconds,
  withStack,
} from './common';

/** Pay → key latencies of the purchases that got their key. */
function payToKey(stack: Stack, bought: Bought[]) {
  const log = stack.telegramLog.refresh();
  return distribution(
    bought.flatMap((b) => {
      const at = log.activationAt(b.tg);
      return at === undefined || b.paidAt === undefined ? [] : [at - b.paidAt];
    }),
  );
}

/** (a) SIGKILL the worker process every 2 s while purchases go from payment to activation. */
export function workerKill({ scale }: ChaosContext): Promise<Figure> {
  const n = scaled(50, scale, 2);
  return withStack({ workers: false }, async (stack) => {
    let worker: WorkerProcess = await spawnWorker(stack.sys);
    const users = await stack.createUsers(telegramIds(n), n);
    const { bought } = await createPurchases(stack, users, 10); // links are made with a healthy worker
    let killing = true;
    let kills = 0;
    let spawnFailures = 0;
    const spawnMs: number[] = [];
    const t0 = Date.now();
    const killer = (async () => {
      while (killing) {
        await sleep(2_000);
        if (!killing) break;
        await worker.kill();
        kills++;
        for (;;) {
          try {
            const s0 = Date.now();
            worker = await spawnWorker(stack.sys);
            spawnMs.push(Date.now() - s0);
            break;
          } catch {
            spawnFailures++;
          }
        }
      }
    })();
    for (const b of bought) pay(stack, b); // each webhook reaches the API, which signals the workflow
    const chaosLimitMs = 180_000;
    const tracking = follow(stack, bought, t0 + chaosLimitMs + 180_000);
    await until(() => tracking.outcomes.size >= n, chaosLimitMs, 250);
    const duringChaos = tracking.count('granted');
    const chaosS = seconds(Date.now() - t0);
    killing = false;
    await killer; // a worker stays up: whatever is left finishes on it
    await tracking.settled;
    await sleep(2_000); // a late duplicate message would arrive now
    const granted = tracking.count('granted');
    const lastDone = Math.max(t0, ...[...tracking.outcomes.values()].map((o) => o.doneAt ?? t0));
    const node = await nodeAudit(stack);
    const messages = messageAudit(stack, users);
    const reasons = await notGranted(stack, bought, tracking.outcomes);
    await worker.kill();
    const lost = n - granted - tracking.count('refunded');
    return {
      name: 'chaos_worker_kill',
      purchases: n,
      kills,
      spawn_failures: spawnFailures,
      uptime_before_kill_ms: 2_000,
      worker_start_p50_ms: distribution(spawnMs).p50,
      completed_during_kills: duringChaos,
      kill_phase_s: chaosS,
      completed: granted,
      refunded: tracking.count('refunded'),
      lost,
      not_granted: reasons,
      all_done_s: seconds(lastDone - t0),
      duplicate_clients: node.orphans + node.duplicates,
      node_clients: node.clients,
      active_subscriptions: node.active,
      duplicate_activation_messages: messages.duplicateTexts,
      duplicate_qr_photos: messages.duplicatePhotos,
      pay_to_key_p50_ms: payToKey(stack, bought).p50,
      pay_to_key_p95_ms: payToKey(stack, bought).p95,
      ok: lost === 0 && node.orphans + node.duplicates === 0 && messages.duplicateTexts === 0,
    };
  });
}

/** The workflow's poll gap is capped at 2 min (POLL_INTERVALS_MS in workflows/payment-polling.ts). */
const POLL_CAP_MS = 120_000;

/**
 * (b) YooKassa answering 429, 500 and not at all (one fault a second, in turn), and losing every
 * webhook, while purchases are created and paid. Faults stop being armed once every purchase is paid;
 * webhooks stay lost, so only the workflow's own polling can find the payments. The verdict is about
 * the product's promise: every paid purchase is granted within one poll interval (≤ 2 min) of
 * YooKassa answering again — the scenario waits that long and no longer, and ends early when all are.
 */
export function yookassaFaults({ scale }: ChaosContext): Promise<Figure> {
  const n = scaled(30, scale, 2);
  return withStack({}, async (stack) => {
    const { faults } = stack.sys.yookassa;
    faults.hangMs = 5_000; // longer than the clients' 3 s timeout
    faults.dropWebhooks = true;
    let armed = 0;
    let arming = true;
    const armer = (async () => {
      const kinds = ['rateLimitNext', 'failNext500', 'timeoutNext'] as const;
      for (let i = 0; arming; i++) {
        const k = kinds[i % kinds.length];
        if (faults[k] === 0) {
          faults[k] = 1;
          armed++;
        }
        await sleep(1_000);
      }
    })();
    const t0 = Date.now();
    const users = await stack.createUsers(telegramIds(n), n);
    let made: Awaited<ReturnType<typeof createPurchases>>;
    try {
      // A user YooKassa keeps refusing gives up after 10 tries (told "try again later"; nothing paid).
      made = await createPurchases(stack, users, 5, 10, true);
      // Paid over a few seconds, so payments land while polls keep meeting faults.
      for (const b of made.bought) {
        pay(stack, b);
        await sleep(Math.floor(5_000 / made.bought.length));
      }
    } finally {
      arming = false;
      await armer;
    }
    const bought = made.bought;
    // Faults armed but not yet met are disarmed: from here YooKassa answers every call.
    const left = faults.rateLimitNext + faults.failNext500 + faults.timeoutNext;
    Object.assign(faults, { rateLimitNext: 0, failNext500: 0, timeoutNext: 0 });
    const faultsEndedAt = Date.now();
    // One poll interval past the end of the faults, plus a little for the grant itself.
    const windowMs = POLL_CAP_MS + 15_000;
    const t = follow(stack, bought, faultsEndedAt + windowMs);
    await t.settled;
    faults.dropWebhooks = false;
    const granted = t.count('granted');
    const d = distribution(await grantLatencies(stack, bought));
    const dropped = stack.sys.yookassa.deliveries().filter((x) => x.outcome === 'dropped').length;
    const node = await nodeAudit(stack);
    const reasons = await notGranted(stack, bought, t.outcomes);
    const lastDone = Math.max(faultsEndedAt, ...[...t.outcomes.values()].map((o) => o.doneAt ?? t0));
    return {
      name: 'chaos_yookassa_faults',
      purchases: n,
      paid: bought.length,
      create_gave_up: made.gaveUp,
      completed: granted,
      lost: bought.length - granted,
      not_granted: reasons,
      faults_injected: armed - left,
      webhooks_dropped: dropped,
      create_failed_tries: made.failedTries,
      create_statuses: made.statuses,
      wait_after_faults_limit_s: seconds(windowMs),
      last_grant_after_faults_s: seconds(lastDone - faultsEndedAt),
      pay_to_granted_p50_ms: d.p50,
      pay_to_granted_p95_ms: d.p95,
      pay_to_granted_max_ms: d.max,
      all_done_s: seconds(lastDone - t0),
      duplicate_clients: node.orphans + node.duplicates,
      ok: bought.length > 0 && granted === bought.length && node.orphans + node.duplicates === 0,
    };
  });
}

/** (c) The node agent down for 10 s while purchases are paid. */
export function agentDown(ctx: ChaosContext): Promise<Figure> {
  return agentOutage(ctx, 'chaos_agent_down', Number(process.env.CHAOS_AGENT_DOWN_S ?? 10) * 1000, 240_000);
}

/**
 * (c, longer) Down for 25 s: longer than AddClient's own retries (~15 s). Not in the default run; the node
 * is back after 25 s, so every purchase should still end granted well within a minute of that.
 */
export function agentDownLong(ctx: ChaosContext): Promise<Figure> {
  return agentOutage(ctx, 'chaos_agent_down_long', 25_000, 90_000);
}

async function agentOutage(
  { scale }: ChaosContext,
  name: string,
  downMs: number,
  followMs: number,
): Promise<Figure> {
  const n = scaled(20, scale, 2);
  return withStack({}, async (stack) => {
    const users = await stack.createUsers(telegramIds(n), n);
    const { bought } = await createPurchases(stack, users, 5);
    const t0 = Date.now();
    const restart = await stopAgent(stack.sys);
    const tracking = follow(stack, bought, t0 + downMs + followMs);
    // Paid over the first part of the outage, so some purchases reach the node early and some late in it.
    for (const [i, b] of bought.entries()) {
      pay(stack, b);
      if (i < bought.length - 1) await sleep(Math.floor(downMs / 2 / bought.length));
    }
    await sleep(Math.max(0, t0 + downMs - Date.now()));
    await restart();
    const upAt = Date.now();
    await tracking.settled;
    await sleep(1_000);
    const node = await nodeAudit(stack);
    const granted = tracking.count('granted');
    const refunded = tracking.count('refunded');
    const reasons = await notGranted(stack, bought, tracking.outcomes);
    const [rows] = await stack.sys.orm.em
      .getConnection()
      .execute(`select count(*)::int as refunded from payments where status = 'refunded'`);
    return {
      name,
      purchases: n,
      agent_down_s: seconds(upAt - t0),
      completed: granted,
      granted,
      refunded,
      refunded_payment_rows: rows.refunded,
      lost: n - granted - refunded,
      not_granted: reasons,
      // Clients no active access accounts for (for a refunded purchase: its client must be gone).
      clients_left_for_refunded: node.orphans,
      node_clients: node.clients,
      active_subscriptions: node.active,
      pay_to_key_p50_ms: payToKey(stack, bought).p50,
      pay_to_key_max_ms: payToKey(stack, bought).max,
      all_done_s: seconds(Math.max(t0, ...[...tracking.outcomes.values()].map((o) => o.doneAt ?? t0)) - t0),
      ok: granted + refunded === n && node.orphans + node.duplicates === 0,
    };
  });
}

/** (d) Telegram answering 429 (retry_after 1) in storms, and a user who blocked the bot. */
export function telegramStorm({ scale }: ChaosContext): Promise<Figure> {
  const n = scaled(20, scale, 2);
  return withStack({}, async (stack) => {
    const { telegram } = stack.sys;
    const users = await stack.createUsers(telegramIds(n + 1), n + 1);
    const blocked = users[n];
    const buyers = users.slice(0, n);
    telegram.blockUser(blocked);
    const { bought } = await createPurchases(stack, users, 5);
    const log = stack.telegramLog.refresh();
    const tooManyBefore = log.tooMany;
    // Storms: every send of the next wave is refused with 429 retry_after=1, three waves.
    let storms = 0;
    const storm = () => {
      for (let i = 0; i < n; i++) {
        telegram.failNext('sendMessage', { code: 429, retry_after: 1 });
        telegram.failNext('sendPhoto', { code: 429, retry_after: 1 });
      }
      storms++;
    };
    storm();
    const t0 = Date.now();
    for (const b of bought) pay(stack, b);
    const tracking = follow(stack, bought, t0 + 240_000);
    await sleep(1_500);
    storm();
    await sleep(1_500);
    storm();
    await tracking.settled;
    const delivered = await until(
      () => {
        log.refresh();
        return buyers.every(
          (tg) =>
            (log.chats.get(tg)?.activations.length ?? 0) > 0 && (log.chats.get(tg)?.photos.length ?? 0) > 0,
        );
      },
      60_000,
      250,
    );
    await sleep(2_000); // late retries to the blocked user would show up now
    log.refresh();
    const messages = messageAudit(stack, buyers);
    const blockedChat = log.chats.get(blocked);
    const blockedPurchase = bought.find((b) => b.tg === blocked)!;
    const blockedOutcome = tracking.outcomes.get(blockedPurchase.paymentId)?.result?.outcome;
    const [row] = await stack.sys.orm.em
      .getConnection()
      .execute(`select is_blocked from users where telegram_id = ?`, [blocked]);
    const node = await nodeAudit(stack);
    const granted = tracking.count('granted');
    const reasons = await notGranted(stack, bought, tracking.outcomes);
    const blockedAttempts = blockedChat?.attempts ?? 0;
    const afterBlock = blockedChat?.afterFirst403 ?? 0;
    return {
      name: 'chaos_telegram_storm',
      purchases: n + 1,
      storms,
      telegram_429: log.tooMany - tooManyBefore,
      completed: granted,
      lost: n + 1 - granted,
      not_granted: reasons,
      delivered_key_and_qr: buyers.filter(
        (tg) =>
          (log.chats.get(tg)?.activations.length ?? 0) > 0 && (log.chats.get(tg)?.photos.length ?? 0) > 0,
      ).length,
      all_delivered: delivered === true,
      duplicate_activation_messages: messages.duplicateTexts,
      duplicate_qr_photos: messages.duplicatePhotos,
      pay_to_key_p50_ms: payToKey(stack, bought).p50,
      pay_to_key_max_ms: payToKey(stack, bought).max,
      blocked_user_access: blockedOutcome ?? 'unknown',
      blocked_user_marked: row?.is_blocked === true,
      blocked_chat_attempts: blockedAttempts,
      blocked_chat_errors: blockedChat?.errors ?? {},
      blocked_chat_calls_after_403: afterBlock,
      duplicate_clients: node.orphans + node.duplicates,
      ok:
        delivered === true &&
        granted === n + 1 &&
        messages.duplicateTexts === 0 &&
        afterBlock === 0 &&
        node.orphans + node.duplicates === 0,
    };
  });
}
