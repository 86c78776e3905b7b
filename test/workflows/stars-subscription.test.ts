import assert from 'node:assert/strict';
import { createAutoRenewActivities } from '../../activities/auto-renew';
import { starsRenewalPaymentId } from '../../activities/stars-subscriptions';
import { createLogger } from '../../infra/logger';
import type { SuccessfulPayment } from '../../infra/local/bot-api-emulator/inject';
import type { PurchaseResult } from '../../workflows/purchase';
import { purchaseWorkflowId, subscriptionWorkflowId } from '../../workflows/purchase-messages';
import { expiryChangedSignal } from '../../workflows/subscription-messages';
import { starsSubscriptionSyncWorkflowId } from '../../workflows/stars-subscription-messages';
import { ADMIN_TOKEN, type ApiHarness, startApi } from '../api/harness';
import { PurchaseSystem } from '../support/system';
import { waitFor } from '../support/wait-for-value';
import { rowsFor } from '../support/webhook';

// Stars subscriptions end to end (issue 13) on real PostgreSQL, Temporal and Xray, Telegram emulated: auto-renew
// consent with Stars makes the invoice a Telegram subscription (createInvoiceLink, subscription_period 30 days);
// Telegram's recurring successful_payment, forwarded by the bot, extends the access by one period once per
// charge id; auto-renew off cancels it at Telegram (editUserStarSubscription); a charge for an access that was
// canceled or refunded goes back. Telegram ids 955_000_000–955_999_999.

const MONTH_S = 2_592_000;
const STARS = 50;

describe('Stars subscriptions: Telegram charges every 30 days, each charge renews once or is refunded', function () {
  this.timeout(180_000);
  // A short STARS_RENEWAL_HOLD, so the hold past an end can be watched.
  const HOLD_MS = 15_000;
  const sys = new PurchaseSystem({
    autoRenew: { beforeMs: 86_400_000, retries: 3, starsRenewalHoldMs: HOLD_MS },
  });
  let api: ApiHarness;
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('stars-month', MONTH_S, { starPrice: STARS });
    await sys.createTariff('stars-week', 7 * 86_400, { starPrice: 20 });
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

  /** What the bot does with successful_payment: forwards Telegram's fields to the API. */
  const forward = (tg: number, p: SuccessfulPayment) =>
    api.call('POST', '/api/v1/payments/stars/confirm', {
      body: {
        telegram_id: tg,
        payload: p.invoice_payload,
        telegram_payment_charge_id: p.telegram_payment_charge_id,
        total_amount: p.total_amount,
        ...(p.is_recurring ? { is_recurring: true } : {}),
        ...(p.is_first_recurring ? { is_first_recurring: true } : {}),
        ...(p.subscription_expiration_date
          ? { subscription_expiration_date: p.subscription_expiration_date }
          : {}),
      },
    });
  const resultOf = (paymentId: string): Promise<PurchaseResult> =>
    sys.client.workflow.getHandle(purchaseWorkflowId(paymentId)).result();
  const activeEnd = async (tg: number) => {
    const sub = (await rowsFor(sys, tg)).subscriptions.find((s) => s.status === 'active');
    return sub ? new Date(sub.expires_at).getTime() : null;
  };
  const refundsOf = (chargeId: string) =>
    sys.telegram
      .calls('refundStarPayment')
      .filter((c) => c.params.telegram_payment_charge_id === chargeId && !c.error);

  /** Auto-renew consent with Stars, the invoice link paid, the first payment forwarded: the access it granted. */
  async function subscribe(tg: number) {
    await sys.createUser(tg);
    const created = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: 'stars-month', provider: 'stars', save_payment_method: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const url = String(created.body.confirmation_url);
    const first = sys.telegram.payInvoiceLink({ from: tg, url });
    const answer = await forward(tg, first);
    assert.deepEqual([answer.status, answer.body], [200, { status: 'accepted' }]);
    const result = await resultOf(created.body.payment_id);
    assert.equal(result.outcome, 'granted');
    return { paymentId: String(created.body.payment_id), url, first, end: (await activeEnd(tg))! };
  }

  it('the first payment: a createInvoiceLink subscription of 30 days grants the access; status says stars; the lifetime charges no card', async () => {
    const tg = 955_000_001;
    const { paymentId, url, first } = await subscribe(tg);
    assert.match(url, /^https:\/\/t\.me\/\$/, 'confirmation_url is the invoice link');
    const link = sys.telegram.calls('createInvoiceLink').find((c) => c.params.payload === paymentId)!;
    assert.deepEqual(
      [link.params.subscription_period, link.params.currency, link.params.provider_token, link.params.prices],
      [MONTH_S, 'XTR', '', [{ label: 'VPN: stars-month', amount: STARS }]],
    );
    assert.equal(first.is_first_recurring, true);

    const status = await api.call('GET', `/api/v1/subscriptions/${tg}/status`);
    assert.equal(status.body.auto_renewal, true);
    assert.equal(status.body.auto_renewal_method, 'stars');
    assert.equal(
      Date.parse(status.body.next_charge_at),
      first.subscription_expiration_date! * 1000,
      "the next charge is Telegram's subscription_expiration_date",
    );

    // At AUTO_RENEW_BEFORE the lifetime asks the books: Telegram charges a Stars subscriber, so nothing is charged.
    const sub = (await rowsFor(sys, tg)).subscriptions[0];
    const books = createAutoRenewActivities({
      orm: sys.orm,
      logger: createLogger('test'),
      remindBeforeMs: [],
    });
    const plan = await books.planAutoRenew({
      subscriptionId: sub.id,
      periodEnd: new Date(sub.expires_at).toISOString(),
      attempt: 0,
    });
    assert.deepEqual(plan, { kind: 'skip', why: 'stars' });
  });

  it('a recurring charge extends the access by exactly 30 days, once, although the bot delivers it twice', async () => {
    const tg = 955_000_002;
    const { first, end } = await subscribe(tg);
    const renewal = sys.telegram.chargeStarSubscription(first.telegram_payment_charge_id)!;
    assert.equal(renewal.is_recurring, true);
    const [a, b] = await Promise.all([forward(tg, renewal), forward(tg, renewal)]);
    assert.deepEqual(
      [a.status, a.body, b.status, b.body],
      [200, { status: 'accepted' }, 200, { status: 'accepted' }],
    );
    const renewalId = starsRenewalPaymentId(renewal.telegram_payment_charge_id);
    assert.equal((await resultOf(renewalId)).outcome, 'extended');
    assert.equal((await activeEnd(tg))! - end, MONTH_S * 1000, 'one period added');

    // Delivered again after the renewal finished: nothing new.
    const again = await forward(tg, renewal);
    assert.deepEqual([again.status, again.body], [200, { status: 'accepted' }]);
    const { payments, subscriptions } = await rowsFor(sys, tg);
    assert.equal(subscriptions.length, 1, 'the same access (same key), only its end moved');
    assert.equal((await activeEnd(tg))! - end, MONTH_S * 1000);
    const paidByCharge = payments.filter(
      (p) => p.telegram_payment_charge_id === renewal.telegram_payment_charge_id,
    );
    assert.deepEqual(
      paidByCharge.map((p) => [p.id, p.status, p.amount]),
      [[renewalId, 'succeeded', `${STARS}.00`]],
    );
    assert.equal(refundsOf(renewal.telegram_payment_charge_id).length, 0);
    const status = await api.call('GET', `/api/v1/subscriptions/${tg}/status`);
    assert.equal(Date.parse(status.body.next_charge_at), renewal.subscription_expiration_date! * 1000);

    // A second subscription for the same access would mean two charges a month.
    const second = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: 'stars-month', provider: 'stars', save_payment_method: true },
    });
    assert.deepEqual([second.status, second.body.error], [409, 'stars_subscription_active']);
  });

  it('auto-renew off cancels the subscription at Telegram (editUserStarSubscription is_canceled); a charge still in flight is refunded, not extended', async () => {
    const tg = 955_000_003;
    const { first, end } = await subscribe(tg);
    const off = await api.call('PUT', `/api/v1/subscriptions/${tg}/auto-renew`, { body: { enabled: false } });
    assert.equal(off.status, 200);
    assert.equal(off.body.auto_renewal, false);
    const edit = await sys.telegram.waitFor((c) => c.method === 'editUserStarSubscription' && !c.error);
    assert.deepEqual(
      [edit.params.user_id, edit.params.telegram_payment_charge_id, edit.params.is_canceled],
      [tg, first.telegram_payment_charge_id, true],
    );
    assert.equal(
      sys.telegram.chargeStarSubscription(first.telegram_payment_charge_id),
      null,
      'Telegram charges a canceled subscription no more',
    );
    const status = await api.call('GET', `/api/v1/subscriptions/${tg}/status`);
    assert.deepEqual([status.body.auto_renewal, status.body.next_charge_at], [false, null]);

    // A charge Telegram had already started when the cancel reached it: the Stars go back, the end stays.
    const late = sys.telegram.chargeStarSubscription(first.telegram_payment_charge_id, { force: true })!;
    const answer = await forward(tg, late);
    assert.deepEqual([answer.status, answer.body], [200, { status: 'refunding' }]);
    await waitFor(
      async () => (refundsOf(late.telegram_payment_charge_id).length > 0 ? true : undefined),
      'the late charge to be refunded',
    );
    assert.equal(await activeEnd(tg), end);
  });

  it('auto-renew on again within the paid period renews the Stars subscription at Telegram; off, on, off in a row ends canceled', async () => {
    const tg = 955_000_006;
    const { paymentId, first, end } = await subscribe(tg);
    const chargeId = first.telegram_payment_charge_id;
    const switchTo = (enabled: boolean) =>
      api.call('PUT', `/api/v1/subscriptions/${tg}/auto-renew`, { body: { enabled } });
    const synced = () => sys.client.workflow.getHandle(starsSubscriptionSyncWorkflowId(paymentId)).result();
    const edits = () =>
      sys.telegram
        .calls('editUserStarSubscription')
        .filter((c) => c.params.telegram_payment_charge_id === chargeId && !c.error)
        .map((c) => c.params.is_canceled);

    assert.equal((await switchTo(false)).body.auto_renewal, false);
    assert.equal(await synced(), 'canceled');
    const on = await switchTo(true);
    assert.deepEqual([on.status, on.body.auto_renewal, on.body.method], [200, true, 'stars']);
    assert.equal(await synced(), 'renewing');
    assert.deepEqual(edits(), [true, false], 'Telegram was told to stop, then to go on');

    // Telegram charges it again at the end, and the charge extends the same access.
    const renewal = sys.telegram.chargeStarSubscription(chargeId);
    assert.ok(renewal, 'a revived subscription is charged again');
    const answer = await forward(tg, renewal);
    assert.deepEqual([answer.status, answer.body], [200, { status: 'accepted' }]);
    assert.equal(
      (await resultOf(starsRenewalPaymentId(renewal.telegram_payment_charge_id))).outcome,
      'extended',
    );
    assert.equal((await activeEnd(tg))! - end, MONTH_S * 1000);

    // Quick switches: whatever order the syncs run in, Telegram ends where the books end.
    await switchTo(false);
    await switchTo(true);
    await switchTo(false);
    assert.equal(await synced(), 'canceled');
    assert.equal(edits().at(-1), true);
    assert.equal(sys.telegram.chargeStarSubscription(chargeId), null, 'no charge after the last "off"');
    const status = await api.call('GET', `/api/v1/subscriptions/${tg}/status`);
    assert.deepEqual([status.body.auto_renewal, status.body.next_charge_at], [false, null]);
  });

  it('auto-renew on does not revive the Stars subscription of a refunded access', async () => {
    const tg = 955_000_007;
    const { paymentId, first } = await subscribe(tg);
    const refund = await api.call('POST', `/api/v1/admin/payments/${paymentId}/refund`, {
      token: ADMIN_TOKEN,
      body: { reason: 'test: refunded access' },
    });
    assert.equal(refund.status, 200, JSON.stringify(refund.body));
    const synced = sys.client.workflow.getHandle(starsSubscriptionSyncWorkflowId(paymentId));
    assert.equal(await synced.result(), 'canceled');
    const on = await api.call('PUT', `/api/v1/subscriptions/${tg}/auto-renew`, { body: { enabled: true } });
    assert.equal(on.status, 200);
    assert.notEqual(on.body.method, 'stars');
    assert.equal(sys.telegram.chargeStarSubscription(first.telegram_payment_charge_id), null);
  });

  it('a recurring charge after the access was refunded is refunded (once, delivered twice)', async () => {
    const tg = 955_000_004;
    const { paymentId, first } = await subscribe(tg);
    const refund = await api.call('POST', `/api/v1/admin/payments/${paymentId}/refund`, {
      token: ADMIN_TOKEN,
      body: { reason: 'customer asked' },
    });
    assert.equal(refund.status, 200, JSON.stringify(refund.body));
    await waitFor(
      async () =>
        sys.telegram
          .calls('editUserStarSubscription')
          .some(
            (c) =>
              c.params.telegram_payment_charge_id === first.telegram_payment_charge_id &&
              c.params.is_canceled,
          )
          ? true
          : undefined,
      'Telegram to be told to stop the subscription',
    );
    const late = sys.telegram.chargeStarSubscription(first.telegram_payment_charge_id, { force: true })!;
    const [a, b] = await Promise.all([forward(tg, late), forward(tg, late)]);
    assert.deepEqual([a.body, b.body], [{ status: 'refunding' }, { status: 'refunding' }]);
    await waitFor(
      async () => (refundsOf(late.telegram_payment_charge_id).length > 0 ? true : undefined),
      'the late charge to be refunded',
    );
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(refundsOf(late.telegram_payment_charge_id).length, 1, 'refunded once');
    const { payments } = await rowsFor(sys, tg);
    assert.equal(
      payments.filter((p) => p.telegram_payment_charge_id === late.telegram_payment_charge_id).length,
      0,
      'the refunded charge paid for nothing',
    );
    assert.equal(await activeEnd(tg), null, 'no access came back');
  });

  /** Moves the access's end (and Telegram's next charge) to `inMs` from now, as if the period were ending. */
  async function endSoon(tg: number, inMs: number) {
    const sub = (await rowsFor(sys, tg)).subscriptions[0];
    const end = new Date(Date.now() + inMs);
    const conn = sys.orm.em.getConnection();
    await conn.execute(`update subscriptions set expires_at = ? where id = ?`, [end, sub.id]);
    await conn.execute(
      `update stars_subscriptions set expires_at = ? where user_id = (select user_id from subscriptions where id = ?)`,
      [end, sub.id],
    );
    await sys.client.workflow
      .getHandle(subscriptionWorkflowId(sub.id))
      .signal(expiryChangedSignal, { expiresAt: end.toISOString(), movedBack: true });
    return { subscriptionId: String(sub.id), end: end.getTime() };
  }
  const subscriptionRow = async (tg: number) => (await rowsFor(sys, tg)).subscriptions[0];

  it('a charge that comes after the end, within STARS_RENEWAL_HOLD, renews the same access (same key, never off the node) from the old end', async () => {
    const tg = 955_000_008;
    const { first } = await subscribe(tg);
    const { subscriptionId, end } = await endSoon(tg, 1_500);
    // Telegram's charge is late: the end passes, and the key stays.
    await new Promise((r) => setTimeout(r, end - Date.now() + 2_500));
    assert.equal((await subscriptionRow(tg)).status, 'active', 'held past the end, not revoked');
    assert.ok((await sys.nodeClients()).includes(subscriptionId), 'the client is still on the node');

    const renewal = sys.telegram.chargeStarSubscription(first.telegram_payment_charge_id)!;
    assert.deepEqual((await forward(tg, renewal)).body, { status: 'accepted' });
    const renewalId = starsRenewalPaymentId(renewal.telegram_payment_charge_id);
    assert.equal((await resultOf(renewalId)).outcome, 'extended');
    const { subscriptions } = await rowsFor(sys, tg);
    assert.equal(subscriptions.length, 1, 'the same access: no new key');
    assert.equal(subscriptions[0].status, 'active');
    assert.equal(
      new Date(subscriptions[0].expires_at).getTime() - end,
      MONTH_S * 1000,
      'the period counts from the old end: the held seconds were not free',
    );
    assert.ok((await sys.nodeClients()).includes(subscriptionId));
  });

  it('no charge within STARS_RENEWAL_HOLD: the key is revoked when the hold is over; a canceled subscription is not held', async () => {
    const held = 955_000_009;
    await subscribe(held);
    const canceled = 955_000_010;
    await subscribe(canceled);
    const off = await api.call('PUT', `/api/v1/subscriptions/${canceled}/auto-renew`, {
      body: { enabled: false },
    });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    const a = await endSoon(held, 1_000);
    const b = await endSoon(canceled, 1_000);
    const expiredAt = async (subscriptionId: string) => {
      const [row] = await sys.orm.em
        .getConnection()
        .execute(
          `select created_at from subscription_events where subscription_id = ? and type = 'expired'`,
          [subscriptionId],
        );
      return row ? new Date(row.created_at).getTime() : undefined;
    };
    const canceledGone = await waitFor(() => expiredAt(b.subscriptionId), 'the canceled one revoked');
    assert.ok(canceledGone < b.end + HOLD_MS, 'a canceled Stars subscription gets no hold');
    const heldGone = await waitFor(() => expiredAt(a.subscriptionId), 'the held one revoked', 40_000);
    assert.ok(heldGone >= a.end + HOLD_MS, 'revoked only once the hold was over');
    assert.equal((await subscriptionRow(held)).status, 'expired');
    assert.ok(!(await sys.nodeClients()).includes(a.subscriptionId), 'its client left the node');
  });

  it('refuses auto-renew by Stars for a tariff that is not 30 days long, and with a promo code (422)', async () => {
    const tg = 955_000_005;
    await sys.createUser(tg);
    const week = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: 'stars-week', provider: 'stars', save_payment_method: true },
    });
    assert.deepEqual([week.status, week.body.error], [422, 'stars_subscription_unavailable']);
    const promo = await api.call('POST', '/api/v1/payments/create', {
      body: {
        telegram_id: tg,
        tariff_slug: 'stars-month',
        provider: 'stars',
        save_payment_method: true,
        promo_code: 'SOME-CODE',
      },
    });
    assert.deepEqual([promo.status, promo.body.error], [422, 'stars_subscription_unavailable']);
    assert.equal((await rowsFor(sys, tg)).payments.length, 0, 'no payment was made');
  });
});
