import { parseConfig } from '../../infra/config';
import type { Figure } from '../bench/report';
import { type CreateAnswer, telegramIds } from '../bench/stack';
import { distribution, pool, scaled, until } from '../bench/stats';
import {
  answerKey,
  type Bought,
  type ChaosContext,
  follow,
  notGranted,
  pay,
  seconds,
  withStack,
} from './common';

const LIMITS = ['API_RATE_LIMIT', 'API_RATE_BURST', 'PURCHASE_OPEN_LIMIT', 'PURCHASE_HOURLY_LIMIT'];

/**
 * The API's per-user limits as deployed: the operator's env, else the config's own defaults. (The test
 * harness turns the rate limit off for its suites; this scenario is about the limit, so it sets it back.)
 * A config without these settings (an API built before them) yields none.
 */
function deployedLimits(): Record<string, string> {
  const config = parseConfig({ DATABASE_URL: 'postgresql://unused/x' }) as unknown as Record<string, unknown>;
  return Object.fromEntries(
    LIMITS.flatMap((k) => {
      const v = process.env[k] ?? config[k];
      return v === undefined ? [] : [[k, String(v)]];
    }),
  );
}

/** "Slowed" = other users' create p95 during the burst above max(3 × calm p95, calm p95 + 1 s). */
const slowed = (calm: number, during: number) => during > Math.max(3 * calm, calm + 1_000);

/**
 * One user taps "buy" 10,000 times (20 taps in flight, as fast as the API answers) while other users
 * buy normally. The product must cap the tapper (a few purchases, the rest refused with 429
 * `purchase_limit` or `rate_limited`) and nobody else may notice: their create latency stays as it was
 * before the burst, and their purchases are paid and granted.
 */
export function tapBurst({ scale }: ChaosContext): Promise<Figure> {
  const taps = scaled(10_000, scale, 50);
  const others = 8;
  const limits = deployedLimits();
  // Without a configured hourly cap there is no number to be under: the API's documented default.
  const hourly = Number(limits.PURCHASE_HOURLY_LIMIT ?? 20);
  return withStack({ apiEnv: limits }, async (stack) => {
    const users = await stack.createUsers(telegramIds(2 * others + 1), 2 * others + 1);
    const [tapper] = users;
    const calmUsers = users.slice(1, others + 1);
    const burstUsers = users.slice(others + 1);
    const othersBought: Bought[] = [];
    const othersStatuses: Record<string, number> = {};
    const buyOnce = async (tg: number): Promise<number> => {
      const res = await stack.create(tg);
      const key = answerKey(res);
      othersStatuses[key] = (othersStatuses[key] ?? 0) + 1;
      if (res.status === 201 || res.status === 200) {
        const b: Bought = { tg, paymentId: res.body.payment_id, providerId: '' };
        b.providerId = await stack.providerId(b.paymentId);
        pay(stack, b);
        othersBought.push(b);
      }
      return res.ms;
    };
    // Before the burst: the same purchase, one user after another, on a calm system.
    const calmMs: number[] = [];
    for (const tg of calmUsers) calmMs.push(await buyOnce(tg));

    const tapAnswers: Record<string, number> = {};
    const tapMs: number[] = [];
    const tapPayments = new Set<string>();
    let tapsDone = 0;
    const t0 = Date.now();
    // Bounded: an uncapped API (each tap a workflow and a YooKassa payment) would take hours here.
    const burstLimitMs = Number(process.env.CHAOS_BURST_MAX_S ?? 180) * 1000;
    let tapsSkipped = 0;
    const burst = pool(
      Array.from({ length: taps }, (_, i) => i),
      20,
      async () => {
        if (Date.now() - t0 > burstLimitMs) {
          tapsSkipped++;
          tapsDone++;
          return;
        }
        const res = await stack
          .create(tapper)
          .catch((err: Error): CreateAnswer => ({ status: 0, ms: 0, body: { error: err.message } }));
        const key = answerKey(res);
        tapAnswers[key] = (tapAnswers[key] ?? 0) + 1;
        tapMs.push(res.ms);
        if (res.status === 201 || res.status === 200) tapPayments.add(res.body.payment_id);
        tapsDone++;
      },
    );
    // During it: the other users buy once each, spread over the burst.
    const duringMs: number[] = [];
    const during = (async () => {
      for (const [i, tg] of burstUsers.entries()) {
        await until(() => tapsDone >= Math.floor(((i + 1) * taps) / (others + 1)), 600_000, 20);
        duringMs.push(await buyOnce(tg));
      }
    })();
    await Promise.all([burst, during]);
    const burstS = seconds(Date.now() - t0);

    const tracking = follow(stack, othersBought, Date.now() + 150_000);
    await tracking.settled;
    const othersGranted = tracking.count('granted');
    const reasons = await notGranted(stack, othersBought, tracking.outcomes);
    // Every purchase the tapper started is a workflow and a YooKassa payment, whatever the API answered.
    const [row] = await stack.sys.orm.em
      .getConnection()
      .execute(
        `select count(*)::int as started from payments p join users u on u.id = p.user_id where u.telegram_id = ?`,
        [tapper],
      );
    const calm = distribution(calmMs);
    const busy = distribution(duringMs);
    const refused = Object.entries(tapAnswers)
      .filter(([k]) => k.startsWith('429'))
      .reduce((n, [, v]) => n + v, 0);
    const capped = row.started <= hourly && refused > 0;
    const othersSlowed = slowed(calm.p95, busy.p95);
    // Every other user got a link at the first try, and every one of them, paid, got access.
    const othersCompleted = othersBought.length === 2 * others && othersGranted === othersBought.length;
    return {
      name: 'chaos_tap_burst',
      taps,
      taps_not_sent_burst_too_long: tapsSkipped,
      purchases: 2 * others,
      tap_answers: tapAnswers,
      tap_201: tapAnswers['201'] ?? 0,
      tap_429: refused,
      tapper_purchases_started: row.started,
      tapper_distinct_payments_answered: tapPayments.size,
      limits,
      capped,
      tap_ms: distribution(tapMs),
      burst_s: burstS,
      others_create_calm_ms: calm,
      others_create_during_burst_ms: busy,
      others_slowed: othersSlowed,
      others_statuses: othersStatuses,
      others_refused: 2 * others - othersBought.length,
      completed: othersGranted,
      lost: othersBought.length - othersGranted,
      not_granted: reasons,
      ok: capped && !othersSlowed && othersCompleted,
    };
  });
}
