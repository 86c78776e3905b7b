import type { Figure } from '../bench/report';
import { note } from '../bench/report';
import { type Stack, telegramIds } from '../bench/stack';
import { distribution, pool, scaled, sleep, until } from '../bench/stats';
import {
  answerKey,
  type Bought,
  type ChaosContext,
  follow,
  grantLatencies,
  nodeAudit,
  notGranted,
  pay,
  seconds,
  withStack,
} from './common';

import { RestartablePostgres, RestartableTemporal } from './services';

/** A service the scenario takes down in the middle of a burst and brings back. */
interface Outage {
  what: string;
  down(): Promise<void>;
  up(): Promise<void>;
}

/** How long the service stays down; CHAOS_OUTAGE_S overrides (default 5 s). */
const outageMs = () => Number(process.env.CHAOS_OUTAGE_S ?? 5) * 1000;

/**
 * A burst of purchases (create → pay, 5 users at a time) with the outage in its middle: once a third
 * of the links exist the service goes down for a few seconds, then comes back. Users retry a failed
 * create like the bot's "try again later" invites them to (once a second, for up to a minute). Then
 * every purchase is followed to its end. Lost = paid but neither granted nor refunded.
 */
async function burstThroughOutage(stack: Stack, n: number, outage: Outage): Promise<Figure> {
  const users = await stack.createUsers(telegramIds(n), n);
  const statuses: Record<string, number> = {};
  const count = (key: string) => {
    statuses[key] = (statuses[key] ?? 0) + 1;
  };
  let created = 0;
  let downAt = 0;
  let upAt = 0;
  const t0 = Date.now();
  const controller = (async () => {
    await until(() => created >= Math.ceil(n / 3), 120_000, 50);
    note(`${outage.what}: down after ${created} links`);
    downAt = Date.now();
    await outage.down();
    await sleep(outageMs());
    await outage.up();
    upAt = Date.now();
    note(`${outage.what}: up again after ${seconds(upAt - downAt)} s`);
  })();
  const bought: Bought[] = await pool(users, 5, async (tg) => {
    for (let attempt = 1; ; attempt++) {
      let res: Awaited<ReturnType<Stack['create']>>;
      try {
        res = await stack.create(tg);
      } catch (err) {
        count('network_error'); // the API process itself stays up: this would be a finding
        res = { status: 0, ms: 0, body: String(err) };
      }
      if (res.status !== 0) count(answerKey(res));
      if (res.status === 201) {
        created++;
        const paymentId: string = res.body.payment_id;
        // Our own read of the provider id may meet the database down too: ask again.
        const providerId = (await until(
          () => stack.providerId(paymentId).catch(() => undefined),
          120_000,
          500,
        ))!;
        const b: Bought = { tg, paymentId, providerId };
        pay(stack, b);
        return b;
      }
      if (attempt >= 60) throw new Error(`create for ${tg}: ${attempt} tries, last ${res.status}`);
      await sleep(1_000);
    }
  });
  await controller;
  // Paid purchases reach their end within one poll interval (≤ 2 min) of the service being back.
  const tracking = follow(stack, bought, Math.max(Date.now(), upAt) + 150_000);
  await tracking.settled;
  const granted = tracking.count('granted');
  const refunded = tracking.count('refunded');
  const reasons = await notGranted(stack, bought, tracking.outcomes);
  const conn = stack.sys.orm.em.getConnection();
  const [rows] = await conn.execute(
    `select (select count(*)::int from payments where status = 'succeeded') as succeeded,
            (select count(*)::int from subscriptions where status = 'active') as active`,
  );
  const node = await nodeAudit(stack);
  const d = distribution(await grantLatencies(stack, bought));
  const fiveXx = Object.entries(statuses)
    .filter(([s]) => s.startsWith('5') && !s.startsWith('503'))
    .reduce((sum, [, v]) => sum + v, 0);
  const lost = n - granted - refunded;
  return {
    name: `chaos_${outage.what}_restart`,
    purchases: n,
    outage_s: seconds(upAt - downAt),
    down_after_links: Math.ceil(n / 3),
    create_statuses: statuses,
    // A finding, not the verdict: the bot shows a 503 as "try again later"; anything else as an error.
    create_5xx_other_than_503: fiveXx,
    completed: granted,
    refunded,
    lost,
    not_granted: reasons,
    succeeded_payment_rows: rows.succeeded,
    active_subscriptions: rows.active,
    lost_payments: n - rows.succeeded - refunded,
    lost_subscriptions: granted - rows.active,
    duplicate_clients: node.orphans + node.duplicates,
    pay_to_granted_p50_ms: d.p50,
    pay_to_granted_p95_ms: d.p95,
    pay_to_granted_max_ms: d.max,
    all_done_s: seconds(Math.max(t0, ...[...tracking.outcomes.values()].map((o) => o.doneAt ?? t0)) - t0),
    ok: granted === n && rows.succeeded === n && rows.active === n && node.orphans + node.duplicates === 0,
  };
}

/** The real PostgreSQL stopped (pg_ctl fast) and started again during a burst of purchases. */
export async function pgRestart({ scale }: ChaosContext): Promise<Figure> {
  const n = scaled(30, scale, 3);
  const pg = await RestartablePostgres.start();
  // services.postgres() takes DATABASE_URL when set: the scenario's databases live on this server.
  const before = process.env.DATABASE_URL;
  process.env.DATABASE_URL = pg.url;
  try {
    return await withStack({}, (stack) =>
      burstThroughOutage(stack, n, { what: 'pg', down: () => pg.down(), up: () => pg.up() }),
    );
  } finally {
    if (before === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = before;
    await pg.close();
  }
}

/** The Temporal dev server (persistent --db-filename) SIGKILLed and started again on its port. */
export async function temporalRestart({ scale }: ChaosContext): Promise<Figure> {
  const n = scaled(30, scale, 3);
  const temporal = await RestartableTemporal.start();
  try {
    return await withStack({ temporal: { address: temporal.address, client: temporal.client } }, (stack) =>
      burstThroughOutage(stack, n, {
        what: 'temporal',
        down: () => temporal.kill(),
        up: () => temporal.up(),
      }),
    );
  } finally {
    await temporal.close();
  }
}
