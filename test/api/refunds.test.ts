import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { purchaseEnd } from '../support/purchase-end';
import type { PurchaseSystem } from '../support/system';
import { signalProviderState } from '../support/webhook';
import { httpGetViaSocks, startHttpTarget, startXrayClient, type XrayClient } from '../support/xray';
import { insertUser, uniqueTelegramId } from './fixtures';
import { ADMIN_TOKEN, type ApiHarness, startApiOnSystem } from './harness';
import { waitFor } from '../support/wait-for-value';

describe('api: cancel with refund and admin refunds (real node, YooKassa emulator)', function () {
  this.timeout(240_000);
  let sys: PurchaseSystem;
  let api: ApiHarness;
  let noRefunds: ApiHarness;
  let web: Awaited<ReturnType<typeof startHttpTarget>>;
  const clients: XrayClient[] = [];

  before(async () => {
    const { PurchaseSystem } = require('../support/system') as typeof import('../support/system');
    sys = new PurchaseSystem();
    await sys.start();
    await sys.startWorkers();
    api = await startApiOnSystem(sys, { REFUND_WINDOW: '14d', REFUND_POLICY: 'prorated' });
    noRefunds = await startApiOnSystem(sys, { REFUND_WINDOW: '0' });
    sys.yookassa.setWebhookUrl(`${api.url}/api/v1/payments/webhook`);
    web = await startHttpTarget();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await web?.close();
    await noRefunds?.close();
    await api?.close();
    await sys?.stop();
  });

  const sql = (q: string, params: unknown[] = []) => sys.orm.em.getConnection().execute(q, params);
  const finished = (paymentId: string) => purchaseEnd(api.temporal, paymentId);

  /** A user with an active month bought by card (paid in the emulator), and a real Xray client on its key. */
  async function buyByCard() {
    const tg = uniqueTelegramId();
    const user = await insertUser(sys.orm, tg);
    const res = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: 'month-1' },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const [p] = await sql(`select provider_payment_id from payments where id = ?`, [res.body.payment_id]);
    sys.yookassa.pay(p.provider_payment_id);
    await signalProviderState(sys, res.body.payment_id, p.provider_payment_id);
    assert.equal(await finished(res.body.payment_id), 'COMPLETED');
    const [sub] = await sql(`select * from subscriptions where user_id = ? and status = 'active'`, [user.id]);
    const client = await startXrayClient(sys.xray!.linkFor(sub.client_uuid));
    clients.push(client);
    return {
      tg,
      userId: String(user.id),
      paymentId: String(res.body.payment_id),
      providerPaymentId: p.provider_payment_id,
      sub,
      client,
    };
  }
  const tunnelWorks = (c: XrayClient) =>
    httpGetViaSocks(c.socksPort, web.url('/hello'), { timeoutMs: 5_000 }).then(
      (r) => r.status === 200,
      () => false,
    );
  const refundsAtShop = (providerPaymentId: string) =>
    sys.yookassa.refunds().filter((r) => r.payment_id === providerPaymentId);

  it('cancel with refund: the unused share goes back to the card, the key stops working at once', async () => {
    const b = await buyByCard();
    assert.equal(await tunnelWorks(b.client), true, 'the paid key works through the real node');

    const res = await api.call('POST', `/api/v1/subscriptions/${b.tg}/cancel`, { body: { refund: true } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.revoked, true);
    // A month used for a few seconds: all but a kopeck or so comes back, never more than was paid.
    const refunded = Number(res.body.refunded_amount);
    assert.ok(refunded > 198 && refunded <= 199, res.body.refunded_amount);
    const atShop = refundsAtShop(b.providerPaymentId);
    assert.deepEqual(
      atShop.map((r) => r.amount.value),
      [res.body.refunded_amount],
      'one refund at YooKassa, of exactly that amount',
    );

    await waitFor(
      async () => ((await sys.nodeClients()).includes(b.sub.client_email) ? undefined : true),
      'the client to leave the node',
    );
    await waitFor(async () => ((await tunnelWorks(b.client)) ? undefined : true), 'the tunnel to close');
    await waitFor(async () => {
      const [sub] = await sql(`select status from subscriptions where id = ?`, [b.sub.id]);
      return sub.status === 'expired' ? true : undefined;
    }, 'the access to be recorded as over');
    const [p] = await sql(`select status, refunded_amount from payments where id = ?`, [b.paymentId]);
    assert.deepEqual([p.status, p.refunded_amount], ['succeeded', res.body.refunded_amount]);

    // Asked again (a second tap): nothing active to cancel, nothing refunded twice.
    const again = await api.call('POST', `/api/v1/subscriptions/${b.tg}/cancel`, { body: { refund: true } });
    assert.deepEqual([again.status, again.body.error], [404, 'no_active_subscription']);
    assert.equal(refundsAtShop(b.providerPaymentId).length, 1);
  });

  it('cancel of an access paid from the balance refunds to the balance', async () => {
    const tg = uniqueTelegramId();
    const user = await insertUser(sys.orm, tg);
    await sql(
      `insert into balance_entries (user_id, amount, reason, reference) values (?, '250.00', 'adjustment', ?)`,
      [user.id, randomUUID()],
    );
    const buy = await api.call('POST', '/api/v1/payments/create', {
      body: { telegram_id: tg, tariff_slug: 'month-1', provider: 'balance' },
    });
    assert.equal(buy.status, 201, JSON.stringify(buy.body));
    assert.equal(await finished(buy.body.payment_id), 'COMPLETED');
    assert.equal((await api.call('GET', `/api/v1/users/${tg}/balance`)).body.balance, '51.00');

    const res = await api.call('POST', `/api/v1/subscriptions/${tg}/cancel`, { body: { refund: true } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const balance = (await api.call('GET', `/api/v1/users/${tg}/balance`)).body;
    assert.equal(Number(balance.balance), 51 + Number(res.body.refunded_amount));
    assert.equal(balance.entries[0].reason, 'cancel_refund');
  });

  it('without a refund window, a cancel with refund is refused (409) and the access keeps running', async () => {
    const b = await buyByCard();
    const res = await noRefunds.call('POST', `/api/v1/subscriptions/${b.tg}/cancel`, {
      body: { refund: true },
    });
    assert.deepEqual([res.status, res.body.error], [409, 'refund_not_available']);
    const keep = await noRefunds.call('POST', `/api/v1/subscriptions/${b.tg}/cancel`, { body: {} });
    assert.deepEqual([keep.status, keep.body], [200, { refunded_amount: '0.00', revoked: false }]);
    const [sub] = await sql(`select status from subscriptions where id = ?`, [b.sub.id]);
    assert.equal(sub.status, 'active');
    assert.equal(await tunnelWorks(b.client), true);
    assert.equal(refundsAtShop(b.providerPaymentId).length, 0);
  });

  it('admin refunds: partial, then never more than paid (also at once), each through YooKassa, access shortened to match, audited', async () => {
    const b = await buyByCard();
    const refund = (body: Record<string, unknown>) =>
      api.call('POST', `/api/v1/admin/payments/${b.paymentId}/refund`, { token: ADMIN_TOKEN, body });
    const endBefore = new Date(b.sub.expires_at).getTime();

    const part = await refund({ amount: '49.75', reason: 'slow node last week' });
    assert.equal(part.status, 200, JSON.stringify(part.body));
    assert.deepEqual([part.body.amount, part.body.to, part.body.status], ['49.75', 'provider', 'succeeded']);
    const cut = endBefore - new Date(part.body.access_expires_at).getTime();
    const expectedCut = (30 * 86_400_000 * 49.75) / 199;
    assert.ok(Math.abs(cut - expectedCut) < 5_000, `access shortened by ${cut} ms, expected ${expectedCut}`);

    const tooMuch = await refund({ amount: '150', reason: 'typo' });
    assert.deepEqual([tooMuch.status, tooMuch.body.error], [409, 'refund_exceeds_payment']);
    const blank = await refund({ reason: ' ' });
    assert.equal(blank.status, 422, JSON.stringify(blank.body));

    // The rest, asked twice at once: one refund of the rest, one refusal.
    const [x, y] = await Promise.all([refund({ reason: 'user left' }), refund({ reason: 'user left' })]);
    assert.deepEqual([x.status, y.status].sort(), [200, 409], JSON.stringify([x.body, y.body]));
    const rest = x.status === 200 ? x.body : y.body;
    assert.equal(rest.amount, '149.25');

    const atShop = refundsAtShop(b.providerPaymentId)
      .map((r) => r.amount.value)
      .sort();
    assert.deepEqual(atShop, ['149.25', '49.75']);
    const [p] = await sql(`select status, refunded_amount, amount from payments where id = ?`, [b.paymentId]);
    assert.deepEqual([p.status, p.refunded_amount], ['refunded', p.amount], 'refunded exactly what was paid');
    // Nothing paid is left: the access ends and the key stops working.
    await waitFor(async () => ((await tunnelWorks(b.client)) ? undefined : true), 'the tunnel to close');
    const audit = await sql(
      `select result from admin_actions where action = 'payment.refund' and target = ? order by id`,
      [`payment:${b.paymentId}`],
    );
    assert.deepEqual(
      audit.map((a) => a.result).sort(),
      ['ok', 'ok', 'refused', 'refused'],
      'two refunds, the too-large one and the loser of the race (a 422 never reaches the handler)',
    );
  });
});
