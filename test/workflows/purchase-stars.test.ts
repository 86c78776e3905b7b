import assert from 'node:assert/strict';
import { createPaymentActivities } from '../../activities/payments';
import { createLogger } from '../../infra/logger';
import { createTelegramSender } from '../../infra/telegram/sender';
import type { PurchaseResult } from '../../workflows/purchase';
import {
  purchaseStatusQuery,
  type StarsRefundResult,
  starsRefundWorkflowId,
} from '../../workflows/purchase-messages';
import { ADMIN_TOKEN, type ApiHarness, startApi } from '../api/harness';
import { PurchaseSystem } from '../support/system';
import { recordHistory } from '../support/histories';
import { rowsFor } from '../support/webhook';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('purchase workflow: Telegram Stars charges are checked with Telegram and never lost', function () {
  this.timeout(180_000);
  const sys = new PurchaseSystem();
  let api: ApiHarness;
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('stars-hour', 3600, { starPrice: 5 });
    api = await startApi({
      db: { url: sys.databaseUrl, orm: sys.orm },
      yookassa: null,
      env: { PURCHASES_TASK_QUEUE: sys.queue },
    });
  });
  after(async () => {
    await api?.close();
    await sys.stop();
  });

  /** What the bot does with Telegram's successful_payment: the user pays, the bot forwards it to the API. */
  const pay = (
    tg: number,
    paymentId: string,
    chargeId: string,
    opts: { listed?: boolean; stars?: number } = {},
  ) => {
    if (opts.listed !== false)
      sys.telegram.injectSuccessfulPayment({
        from: tg,
        payload: paymentId,
        total_amount: opts.stars ?? 5,
        telegram_payment_charge_id: chargeId,
      });
    return api.call('POST', '/api/v1/payments/stars/confirm', {
      body: { telegram_id: tg, payload: paymentId, telegram_payment_charge_id: chargeId, total_amount: 5 },
    });
  };
  const refundsOf = (chargeId: string) =>
    sys.telegram
      .calls('refundStarPayment')
      .filter((c) => c.params.telegram_payment_charge_id === chargeId && !c.error);

  it('a made-up charge id is not granted; the charge Telegram lists is', async () => {
    const tg = 760_001;
    await sys.createUser(tg);
    const { handle, paymentId } = await sys.buy(tg, 'stars-hour', 'stars');
    const fake = await pay(tg, paymentId, 'made-up-charge', { listed: false });
    assert.deepEqual([fake.status, fake.body], [200, { status: 'accepted' }]);
    const status = await until(async () => {
      const s = await handle.query(purchaseStatusQuery);
      return s.lastError?.includes('made-up-charge') ? s : undefined;
    }, 'the fake charge to be checked');
    assert.equal(status.stage, 'AWAITING_PAYMENT', 'nothing granted on the bot’s word');
    assert.equal((await rowsFor(sys, tg)).subscriptions.length, 0);

    await pay(tg, paymentId, 'real-charge-1');
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'granted');
    await recordHistory(sys.client, handle.workflowId, 'stars-unverified-then-granted');
    const { payments, subscriptions } = await rowsFor(sys, tg);
    assert.deepEqual(
      [payments[0].status, payments[0].telegram_payment_charge_id, subscriptions.length],
      ['succeeded', 'real-charge-1', 1],
    );
    assert.equal(sys.telegram.calls('refundStarPayment').length, 0, 'nothing to refund');
  });

  it('a charge of the wrong amount at Telegram is not granted and goes back to the payer', async () => {
    const tg = 760_002;
    await sys.createUser(tg);
    const { handle, paymentId } = await sys.buy(tg, 'stars-hour', 'stars');
    await pay(tg, paymentId, 'cheap-charge', { stars: 1 });
    await until(async () => (refundsOf('cheap-charge').length > 0 ? true : undefined), 'the refund');
    assert.equal((await handle.query(purchaseStatusQuery)).stage, 'AWAITING_PAYMENT');
    await handle.terminate();
    assert.equal((await rowsFor(sys, tg)).subscriptions.length, 0);
  });

  it('Stars paid just after the deadline still grant the access (grace window)', async () => {
    const tg = 760_003;
    await sys.createUser(tg);
    const { handle, paymentId } = await sys.buy(tg, 'stars-hour', 'stars', { paymentTimeoutMs: 2_000 });
    await until(
      async () => ((await handle.query(purchaseStatusQuery)).stage === 'EXPIRED' ? true : undefined),
      'the purchase to expire',
    );
    assert.equal((await rowsFor(sys, tg)).payments[0].status, 'expired');
    await pay(tg, paymentId, 'late-charge');
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'granted');
    await recordHistory(sys.client, handle.workflowId, 'stars-late-granted');
    const { payments, subscriptions } = await rowsFor(sys, tg);
    assert.deepEqual([payments[0].status, subscriptions.length], ['succeeded', 1]);
    assert.equal(refundsOf('late-charge').length, 0);
  });

  it('a Stars top-up paid just after the deadline credits the balance (grace window) and grants no access', async () => {
    const tg = 760_050;
    await sys.createUser(tg);
    const { handle, paymentId } = await sys.buy(tg, 'stars-hour', 'stars', {
      paymentTimeoutMs: 2_000,
      purpose: 'topup',
      amount: '100.00',
      // What the API sends for a top-up (api/balance-topup.ts): no tariff, the Stars price quoted for 100 RUB.
      tariff: {
        id: 0,
        name: 'Balance top-up',
        price: '100.00',
        currency: 'RUB',
        durationSeconds: 0,
        starPrice: 5,
        location: null,
      },
    });
    await until(
      async () => ((await handle.query(purchaseStatusQuery)).stage === 'EXPIRED' ? true : undefined),
      'the top-up to expire',
    );
    await pay(tg, paymentId, 'late-topup-charge');
    const result: PurchaseResult = await handle.result();
    assert.equal(result.outcome, 'topped_up');
    const [entry] = await sys.orm.em
      .getConnection()
      .execute(
        `select b.amount, b.currency from balance_entries b join users u on u.id = b.user_id where u.telegram_id = ?`,
        [tg],
      );
    assert.deepEqual([String(entry.amount), entry.currency], ['100.00', 'RUB']);
    const { payments, subscriptions } = await rowsFor(sys, tg);
    assert.deepEqual([payments[0].status, subscriptions.length], ['succeeded', 0]);
    assert.equal(refundsOf('late-topup-charge').length, 0);
  });

  it('a second charge for one payload is refunded once; the first buys the access', async () => {
    const tg = 760_004;
    await sys.createUser(tg);
    const { handle, paymentId } = await sys.buy(tg, 'stars-hour', 'stars');
    await pay(tg, paymentId, 'first-charge');
    const second = await pay(tg, paymentId, 'second-charge');
    assert.ok([200, 409].includes(second.status), JSON.stringify(second.body));
    assert.equal(((await handle.result()) as PurchaseResult).outcome, 'granted');
    await until(async () => (refundsOf('second-charge').length > 0 ? true : undefined), 'the refund');
    await recordHistory(sys.client, handle.workflowId, 'stars-second-charge-refunded');
    // Reported again after the purchase closed: still one refund.
    const again = await pay(tg, paymentId, 'second-charge', { listed: false });
    assert.deepEqual([again.status, again.body.error], [409, 'already_paid']);
    await sleep(1_000);
    assert.equal(refundsOf('second-charge').length, 1);
    assert.equal(refundsOf('first-charge').length, 0);
    const { payments, subscriptions } = await rowsFor(sys, tg);
    assert.deepEqual(
      [payments[0].status, payments[0].telegram_payment_charge_id, subscriptions.length],
      ['succeeded', 'first-charge', 1],
    );
  });

  it('a charge whose purchase is closed is refunded by stars-refund-<charge id>, once', async () => {
    const tg = 760_005;
    await sys.createUser(tg);
    const { handle, paymentId } = await sys.buy(tg, 'stars-hour', 'stars');
    await handle.terminate('closed for the test');
    const res = await pay(tg, paymentId, 'orphan-charge');
    assert.deepEqual([res.status, res.body], [200, { status: 'refunding' }]);
    const refund = sys.client.workflow.getHandle(starsRefundWorkflowId('orphan-charge'));
    assert.equal((await refund.result()) as StarsRefundResult, 'refunded');
    const again = await pay(tg, paymentId, 'orphan-charge', { listed: false });
    assert.equal(again.status, 200);
    assert.equal(refundsOf('orphan-charge').length, 1);
    assert.equal(Number(refundsOf('orphan-charge')[0].params.user_id), tg);
    assert.equal((await rowsFor(sys, tg)).subscriptions.length, 0);
  });

  it('the confirm route takes the bot’s token only, not the admin token', async () => {
    const res = await api.call('POST', '/api/v1/payments/stars/confirm', {
      token: ADMIN_TOKEN,
      body: { telegram_id: 1, payload: 'x', telegram_payment_charge_id: 'c', total_amount: 5 },
    });
    assert.equal(res.status, 401);
  });

  it('a Stars refund Telegram already made counts as done, so a retry after a failed DB write completes', async () => {
    const tg = 760_006;
    const userId = await sys.createUser(tg);
    const [tariff] = await sys.orm.em
      .getConnection()
      .execute(`select id from tariffs where slug = 'stars-hour'`);
    const [p] = await sys.orm.em.getConnection().execute(
      `insert into payments (id, user_id, tariff_id, provider, provider_payment_id, status, amount, currency, telegram_payment_charge_id)
         values (gen_random_uuid(), ?, ?, 'stars', 'x', 'succeeded', '5.00', 'XTR', 'refund-twice') returning id`,
      [userId, tariff.id],
    );
    sys.telegram.injectSuccessfulPayment({
      from: tg,
      payload: p.id,
      total_amount: 5,
      telegram_payment_charge_id: 'refund-twice',
    });
    const sender = createTelegramSender({ apiRoot: sys.telegram.url, botToken: sys.telegram.token });
    await sender.refundStarPayment(tg, 'refund-twice'); // the first attempt: Telegram refunded, our write failed
    const activities = createPaymentActivities({
      orm: sys.orm,
      yookassa: null,
      telegram: sender,
      returnUrl: 'http://localhost',
      logger: createLogger('test'),
    });
    await activities.refundPayment({ paymentId: p.id, reason: 'retry' });
    const [row] = await sys.orm.em
      .getConnection()
      .execute(`select status, refund_id from payments where id = ?`, [p.id]);
    assert.deepEqual([row.status, row.refund_id], ['refunded', 'refund-twice']);
    const calls = sys.telegram
      .calls('refundStarPayment')
      .filter((c) => c.params.telegram_payment_charge_id === 'refund-twice');
    assert.equal(calls.at(-1)?.error?.description, 'Bad Request: CHARGE_ALREADY_REFUNDED');
  });
});
