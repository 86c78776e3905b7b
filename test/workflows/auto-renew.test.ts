import assert from 'node:assert/strict';
import { setAutoRenew } from '../../api/auto-renew';
import { handleYooKassaNotification } from '../../api/payment-webhook';
import { openReadPool } from '../../infra/db/read-pool';
import { createLogger } from '../../infra/logger';
import { createMetrics } from '../../infra/metrics';
import { createYooKassaClient } from '../../infra/yookassa/client';
import type { Payment } from '../../infra/yookassa/types';
import type { PurchaseResult } from '../../workflows/purchase';
import { PurchaseSystem } from '../support/system';
import { waitFor } from '../support/wait-for-value';
import { rowsFor, signalProviderState } from '../support/webhook';
import { spawnWorker, type WorkerProcess } from '../support/worker-process';

// Auto-renew end to end (issue 13) on real PostgreSQL, Temporal and Xray, YooKassa emulated: a card saved with
// the buyer's consent renews the access at AUTO_RENEW_BEFORE before the end with no user action, once per period
// (webhooks delivered five times, the worker killed mid-charge), and a card declined on every try is told once
// and the access ends on time. Short tariffs and a short AUTO_RENEW_BEFORE stand in for months and a day.

const TARIFF_S = 10;
const BEFORE_MS = 6_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A first card purchase with auto-renew consent, paid on the checkout page; the access it granted. */
async function buyWithConsent(sys: PurchaseSystem, tg: number, slug = 'ten-seconds') {
  const { link, handle, paymentId } = await sys.buy(tg, slug, 'yookassa', {
    savePaymentMethod: true,
  });
  sys.yookassa.pay(link.providerPaymentId!);
  await signalProviderState(sys, paymentId, link.providerPaymentId!);
  const result: PurchaseResult = await handle.result();
  assert.equal(result.outcome, 'granted');
  const [sub] = (await rowsFor(sys, tg)).subscriptions;
  return { sub, end: new Date(sub.expires_at).getTime(), providerPaymentId: link.providerPaymentId! };
}

/** Charges of saved methods at the emulator for this user (created without a checkout page). */
const savedCharges = (sys: PurchaseSystem, tg: number): Payment[] =>
  sys.yookassa
    .payments()
    .filter((p) => p.metadata?.telegram_id === String(tg) && p.description?.includes('auto-renewal'));

const chargeRows = (sys: PurchaseSystem, subscriptionId: string) =>
  sys.orm.em
    .getConnection()
    .execute(`select * from auto_renew_charges where subscription_id = ? order by period_end`, [
      subscriptionId,
    ]);

const texts = (sys: PurchaseSystem, tg: number) =>
  sys.telegram.sentTo(tg).map((c) => String(c.params.text ?? c.params.caption ?? ''));

describe('auto-renew from a saved card', function () {
  this.timeout(180_000);
  const sys = new PurchaseSystem({
    remindBeforeMs: [2_000],
    autoRenew: { beforeMs: BEFORE_MS, retries: 3 },
  });
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('ten-seconds', TARIFF_S);
  });
  after(() => sys.stop());

  it('seed scenario 4: renews at T - X with no user action, once although the webhook comes 5 times; the key works past the old end', async () => {
    const TG = 760_001;
    await sys.createUser(TG);
    const { sub, end } = await buyWithConsent(sys, TG);
    const [settings] = await sys.orm.em
      .getConnection()
      .execute(
        `select s.* from auto_renew_settings s join users u on u.id = s.user_id where u.telegram_id = ?`,
        [TG],
      );
    assert.equal(settings.enabled, true, 'consent at payment switches auto-renew on');
    assert.deepEqual(
      sys.yookassa.savedMethods().map((m) => m.id),
      [settings.payment_method_id],
      'the saved method is kept by its YooKassa id only',
    );

    // The charge appears at the emulator by itself; its notification is delivered to the real handler 5 times.
    const [charge] = await waitFor(
      async () => {
        const found = savedCharges(sys, TG);
        return found.length > 0 ? found : undefined;
      },
      'the auto-renew charge at the emulator',
      20_000,
    );
    const chargedAt = Date.now();
    assert.ok(
      chargedAt >= end - BEFORE_MS - 1_000 && chargedAt < end,
      'charged at T - AUTO_RENEW_BEFORE, before the end',
    );
    const reads = openReadPool(sys.orm);
    const deps = {
      orm: sys.orm,
      reads,
      temporal: sys.client,
      yookassa: createYooKassaClient({
        apiUrl: sys.yookassa.url,
        shopId: sys.shopId,
        secretKey: sys.secretKey,
        returnUrl: 'http://localhost/return',
      }),
      logger: createLogger('test-webhook'),
      metrics: createMetrics({ orm: sys.orm }),
    };
    const body = { type: 'notification' as const, event: 'payment.succeeded', object: { id: charge!.id } };
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => handleYooKassaNotification(deps, body as never)),
    ).finally(() => reads.close());
    assert.ok(
      outcomes.every((o) => ['signalled', 'workflow_closed', 'already_settled'].includes(o)),
      JSON.stringify(outcomes),
    );

    await sys.telegram.waitFor((c) => /renewed automatically/.test(String(c.params.text)), 20_000);
    const renewed = (await rowsFor(sys, TG)).subscriptions;
    assert.equal(renewed.length, 1, 'the same access');
    assert.equal(new Date(renewed[0].expires_at).getTime(), end + TARIFF_S * 1000, 'exactly one period more');
    assert.equal(savedCharges(sys, TG).length, 1, 'one charge at the provider');
    assert.equal(charge!.payment_method?.id, settings.payment_method_id, 'the saved card was charged');
    const { payments, events } = await rowsFor(sys, TG);
    assert.deepEqual(
      payments.map((p) => p.status),
      ['succeeded', 'succeeded'],
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['activated', 'extended'],
    );
    // The purchase tells the user before the lifetime books the attempt's outcome.
    const rows = await waitFor(
      async () => {
        const found = await chargeRows(sys, sub.id);
        return found[0]?.status === 'charging' ? undefined : found;
      },
      'the attempt booked',
      10_000,
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0].status, 'succeeded');
    assert.equal(new Date(rows[0].period_end).getTime(), end);

    // Opt-out before the next window: nothing more is charged, and the access runs to its new end.
    await setAutoRenew(sys.orm, settings.user_id, false);
    await sleep(Math.max(0, end - Date.now() + 1_500));
    assert.equal(
      (await rowsFor(sys, TG)).subscriptions[0].status,
      'active',
      'past the old end: still active',
    );
    assert.deepEqual(await sys.nodeClients(), [sub.id], 'the same key is on the node');
    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === TG && /has ended/.test(String(c.params.text)),
      30_000,
    );
    assert.equal(savedCharges(sys, TG).length, 1, 'switched off: no second charge');
    const sent = texts(sys, TG);
    assert.equal(sent.filter((t) => /renewed automatically/.test(t)).length, 1, 'told once');
    assert.equal(sent.filter((t) => /could not renew/.test(t)).length, 0);
  });

  it('a card declined on every try: 3 attempts, the user told once with "pay now", the access expires on time', async () => {
    const TG = 760_002;
    await sys.createUser(TG);
    const { sub, end } = await buyWithConsent(sys, TG);
    sys.yookassa.faults.declineSavedChargeNext = 3;

    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === TG && /has ended/.test(String(c.params.text)),
      40_000,
    );
    const [after] = (await rowsFor(sys, TG)).subscriptions;
    assert.equal(after.status, 'expired');
    assert.equal(new Date(after.expires_at).getTime(), end, 'the end never moved');
    const charges = savedCharges(sys, TG);
    assert.equal(charges.length, 3, 'AUTO_RENEW_RETRIES attempts');
    assert.ok(charges.every((c) => c.status === 'canceled'));
    const sent = sys.telegram.sentTo(TG);
    const failures = sent.filter((c) => /could not renew/.test(String(c.params.text)));
    assert.equal(failures.length, 1, 'told once');
    assert.match(JSON.stringify(failures[0]!.params.reply_markup), /Pay now/);
    assert.equal(
      texts(sys, TG).filter((t) => /payment failed/i.test(t)).length,
      0,
      'no per-attempt failure messages',
    );
    const [row] = await chargeRows(sys, sub.id);
    assert.equal(row.status, 'failed');
    assert.equal(row.attempts, 3);
    assert.deepEqual(await sys.nodeClients(), [], 'revoked at the end');
  });

  it('the balance goes first: a balance that covers the price renews without touching the card', async () => {
    const TG = 760_003;
    const userId = await sys.createUser(TG);
    await sys.orm.em
      .getConnection()
      .execute(
        `insert into balance_entries (user_id, amount, currency, reason, reference) values (?, '10.00', 'RUB', 'adjustment', 'test-760003')`,
        [userId],
      );
    const { end } = await buyWithConsent(sys, TG);
    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === TG && /renewed automatically/.test(String(c.params.text)),
      20_000,
    );
    await setAutoRenew(sys.orm, userId, false);
    const { subscriptions, payments } = await rowsFor(sys, TG);
    assert.equal(new Date(subscriptions[0].expires_at).getTime(), end + TARIFF_S * 1000);
    assert.deepEqual(
      payments.map((p) => p.provider),
      ['yookassa', 'balance'],
    );
    assert.equal(savedCharges(sys, TG).length, 0, 'the card was not charged');
    const [bal] = await sys.orm.em
      .getConnection()
      .execute(`select balance from balances where user_id = ?`, [userId]);
    assert.equal(Number(bal.balance), 0);
  });
});

describe('auto-renew with the worker killed mid-charge', function () {
  this.timeout(300_000);
  const sys = new PurchaseSystem({ remindBeforeMs: [2_000] });
  let worker: WorkerProcess | undefined;
  const restart = async () => {
    await worker?.kill();
    // A worker process takes seconds to start: a window long enough for two restarts inside it.
    worker = await spawnWorker(sys, {
      REMIND_BEFORE: '2s',
      AUTO_RENEW_BEFORE: '40s',
      AUTO_RENEW_RETRIES: '3',
    });
  };
  before(async () => {
    await sys.start();
    await sys.createTariff('fifty-seconds', 50);
  });
  after(async () => {
    await worker?.kill();
    await sys.stop();
  });

  it('charges once and extends once', async () => {
    const TG = 760_101;
    await sys.createUser(TG);
    await restart();
    const { sub, end } = await buyWithConsent(sys, TG, 'fifty-seconds');
    // Killed the moment the period's charge row exists: the plan is booked, the charge is in flight or next.
    for (const until = Date.now() + 20_000; (await chargeRows(sys, sub.id)).length === 0; ) {
      if (Date.now() > until) {
        const history = await sys.client.workflow.getHandle(`subscription-${sub.id}`).fetchHistory();
        throw new Error(
          `no auto-renew attempt was booked: ${worker!.output().slice(-3000)} ${JSON.stringify(history.events?.slice(0, 12)).slice(0, 4000)}`,
        );
      }
      await sleep(10);
    }
    await worker!.kill();
    await restart();
    await sys.telegram.waitFor(
      (c) => Number(c.params.chat_id) === TG && /renewed automatically/.test(String(c.params.text)),
      60_000,
    );
    await restart(); // once more after the renewal: replays change nothing
    await sleep(1_000);
    const [settings] = await sys.orm.em
      .getConnection()
      .execute(`select user_id from auto_renew_settings where payment_method_id is not null limit 1`);
    await setAutoRenew(sys.orm, settings.user_id, false);
    const { subscriptions, events } = await rowsFor(sys, TG);
    // One period more, from the old end or (a restart that outlasted the end) from the renewal's moment.
    const newEnd = new Date(subscriptions[0].expires_at).getTime();
    assert.ok(newEnd >= end + 50_000 && newEnd < end + 100_000, `one period more: ${newEnd - end}`);
    assert.equal(savedCharges(sys, TG).length, 1, 'one charge at the provider');
    assert.deepEqual(
      events.map((e) => e.type),
      ['activated', 'extended'],
    );
    assert.equal(texts(sys, TG).filter((t) => /renewed automatically/.test(t)).length, 1);
  });
});
